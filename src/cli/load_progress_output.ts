/**
 * Where `dts load` shows its progress: a bar redrawn in place on a terminal
 * (total, rate, ETA), else a log line every few seconds with the same numbers,
 * in the log's own format (JSON lines stay JSON lines).
 * @module
 */
import type { Logger } from "../log/logger.ts";
import {
  formatLoadBar,
  loadProgress,
  loadProgressFields,
  type LoadTarget,
} from "../load/load_progress.ts";

/** Options of `loadProgressOutput`. */
export interface LoadProgressOutputOptions {
  target: LoadTarget;
  /** Redraw a bar on stderr (a terminal, and no `--json`). */
  bar: boolean;
  /** Terminal width for the bar. */
  width: number | null;
  write: (text: string) => void;
  logger: Logger;
  /** @default Date.now */
  now?: () => number;
  /** How often a log line is written when there is no bar. @default 5000 */
  logEveryMs?: number;
}

/** A progress sink for `runLoad`'s `onProgress`, and `finish()` once the run is over. */
export function loadProgressOutput(
  options: LoadProgressOutputOptions,
): { onProgress(counts: { sent: number; done: number }): void; finish(): void } {
  const now = options.now ?? Date.now;
  const started = now();
  const every = options.logEveryMs ?? 5000;
  let nextLogAt = started + every;
  let drawn = false;
  return {
    onProgress(counts): void {
      const at = now();
      const numbers = loadProgress(counts, options.target, at - started);
      if (options.bar) {
        options.write(`\r${formatLoadBar(numbers, options.target, options.width)}\x1b[K`);
        drawn = true;
      } else if (at >= nextLogAt) {
        nextLogAt = at + every;
        options.logger.info("Load progress", loadProgressFields(numbers, options.target));
      }
    },
    finish(): void {
      if (drawn) options.write("\n");
    },
  };
}
