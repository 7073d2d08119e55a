/**
 * `NODE_TLS_REJECT_UNAUTHORIZED=0` turns off TLS certificate checks in
 * Deno's Node compatibility layer, which amqplib's `amqps://` goes through,
 * without a word. dts says so, loudly, whenever it connects to a broker.
 * @module
 */

/** The warning to log for this environment, or null when TLS is verified as usual. */
export function insecureTlsWarning(
  env: Readonly<Record<string, string | undefined>>,
): string | null {
  if (env.NODE_TLS_REJECT_UNAUTHORIZED !== "0") return null;
  return "NODE_TLS_REJECT_UNAUTHORIZED=0 is set: TLS certificates are NOT verified, so an amqps:// " +
    "broker connection can be intercepted; unset it, and give a private CA with --cert or DENO_CERT instead";
}
