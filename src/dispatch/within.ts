/**
 * Bounded waiting on work that cannot be cancelled.
 * @module
 */

/** Wait for `work`, but at most `ms`; the work itself goes on. It must not reject. */
export async function within(work: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
