/**
 * The default name of a `dts worker`: unique per process on a host, so two
 * workers for the same task never share a name (remote control, `dts status`
 * and results tell them apart), as Celery's `%i`/pid node names do.
 * @module
 */

/** `worker-<keys joined by ->.<pid>@<hostname>`, e.g. `worker-a.4182@host1`. */
export function defaultWorkerName(
  keys: readonly string[],
  where: { hostname: string; pid: number },
): string {
  return `worker-${keys.join("-")}.${where.pid}@${where.hostname}`;
}
