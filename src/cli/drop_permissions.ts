/**
 * Giving up permissions for the rest of the process (`main.ts` hands this to
 * commands): what is revoked cannot come back, not even for a plugin host.
 * @module
 */
import type { DroppablePermission } from "./cli_context.ts";

/** Revoke each permission; one that was never granted stays as it is. */
export async function dropPermissions(names: readonly DroppablePermission[]): Promise<void> {
  for (const name of names) await Deno.permissions.revoke({ name });
}
