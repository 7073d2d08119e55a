/**
 * `dts revoke ID... [--terminate] [--reason TEXT]`: cancel tasks wherever
 * they are: queued, waiting in a delay (retry or eta), or, with
 * `--terminate`, running.
 * @module
 */
import type { Command } from "commander";
import { revokeTasks } from "../client/revoke_tasks.ts";
import { REVOCATION_STREAM, REVOKE_EXPIRES_MS } from "../control/revocation_log.ts";
import { UsageError } from "../errors.ts";
import type { CliContext } from "./cli_context.ts";
import {
  addCommonOptions,
  commandLogger,
  type CommonFlags,
  loadCommandConfig,
  openBroker,
} from "./common_options.ts";

interface RevokeFlags extends CommonFlags {
  terminate?: boolean;
  reason?: string;
  json?: boolean;
}

/** Register `revoke`. */
export function registerRevokeCommand(
  program: Command,
  ctx: CliContext,
  run: (work: () => Promise<number>) => void,
): void {
  const command = program.command("revoke")
    .description("cancel tasks by id, fleet-wide: queued, delayed, or running with --terminate")
    .argument("<id...>", "task ids (as `dts dispatch` and Celery's AsyncResult.id show them)")
    .option(
      "--terminate",
      "also stop them where they run: ctx.signal aborts, REVOKED after the grace",
    )
    .option("--reason <text>", "what their REVOKED result says (default: revoked)")
    .option("--json", "print one JSON document");
  addCommonOptions(command);
  command.addHelpText(
    "after",
    `
Examples:
  dts revoke 3f2c9e4a-…
  dts revoke ID1 ID2 --terminate --reason "wrong build"

A revoked task is not run when a worker takes it: it is acknowledged and its
sender gets REVOKED (Celery's TaskRevokedError). The revocation is kept for
${
      REVOKE_EXPIRES_MS / 3_600_000
    } hours in the stream ${REVOCATION_STREAM}, so workers that start later honour it too,
and is broadcast on celery.pidbox, so Celery workers honour it as well.`,
  );
  command.action((ids: string[], flags: RevokeFlags) => run(() => revokeCommand(ids, flags, ctx)));
}

/** Revoke; resolves to the exit code. */
export async function revokeCommand(
  ids: string[],
  flags: RevokeFlags,
  ctx: CliContext,
): Promise<number> {
  const empty = ids.find((id) => id.trim() === "");
  if (empty !== undefined) throw new UsageError("Cannot revoke an empty task id");
  const config = await loadCommandConfig(flags, ctx);
  const logger = commandLogger(config, ctx);
  const transport = await openBroker(config, logger, ctx);
  try {
    const outcome = await revokeTasks(transport, ids, {
      terminate: flags.terminate,
      reason: flags.reason,
    });
    const revoked = outcome.revocations;
    if (flags.json) {
      ctx.stdout(`${
        JSON.stringify({
          revoked: revoked.map((r) => r.taskId),
          terminate: flags.terminate ?? false,
          reason: flags.reason ?? "revoked",
          expires_at: new Date(revoked[0].expiresAt).toISOString(),
          stored: outcome.stored,
          problem: outcome.problem,
        })
      }\n`);
    } else {
      const what = revoked.length === 1 ? "1 task" : `${revoked.length} tasks`;
      ctx.stdout(
        `Revoked ${what}${flags.terminate ? " (terminating where running)" : ""}: ${
          revoked.map((r) => r.taskId).join(" ")
        }\n`,
      );
    }
    if (!outcome.stored) {
      logger.warn("The revocations are not stored in the stream; only live workers have them", {
        stream: REVOCATION_STREAM,
        error: outcome.problem,
        effect:
          "a worker that starts later learns them from the live ones (if any); run dts revoke again once the broker is healthy",
      });
      return 1;
    }
    return 0;
  } finally {
    await transport.close();
  }
}
