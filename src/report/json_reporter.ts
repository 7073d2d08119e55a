/**
 * `--output json`: one results document on stdout once the dispatch is over.
 * @module
 */
import { toResultsDocument } from "./results_document.ts";
import type { DispatchPlan, DispatchRun, Reporter, TaskEvent } from "./task_event.ts";

/** Options of `JsonReporter`. */
export interface JsonReporterOptions {
  /** Receives the whole document at once. */
  write: (text: string) => Promise<void> | void;
}

/** Prints nothing while tasks run, then the SPEC results document as pretty JSON. */
export class JsonReporter implements Reporter {
  #write: (text: string) => Promise<void> | void;

  constructor(options: JsonReporterOptions) {
    this.#write = options.write;
  }

  /** Does nothing: the document comes at the end. */
  begin(_plan: DispatchPlan): void {}

  /** Does nothing: the document comes at the end. */
  report(_event: TaskEvent): void {}

  /** Write the results document followed by a newline. */
  async finish(run: DispatchRun): Promise<void> {
    await this.#write(JSON.stringify(toResultsDocument(run), null, 2) + "\n");
  }
}
