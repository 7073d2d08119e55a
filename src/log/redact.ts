/**
 * Keep secrets out of output: every broker URL dts prints, logs, saves or
 * sends goes through `redactUrl` (a URL or a failover list of them), and
 * free text that may embed one (driver errors, log messages) through
 * `redactText`. Both use one rule, below.
 *
 * The rule: after `scheme://`, the userinfo ends at the LAST `@` (on the
 * same line, before the next `scheme://`); what follows its first `:` is the
 * password and becomes `***`. For a URL the WHATWG parser reads whole, that
 * is exactly its `username:password` (it also takes the last `@` of the
 * authority). Where the parser would be fooled, the rule still hides the
 * password: a `/`, `?` or `#` in a password ends the parser's authority
 * early (`amqp://u:12#x@host` parses as host `u`, port `12`, fragment
 * `#x@host`), so a parse-based redaction would print `12` and `x`. The rule
 * errs on the side of hiding: an unrelated `@` later on the same line (in a
 * path or in text after the URL) makes it hide more than the password.
 * @module
 */

/** `scheme://`, as in RFC 3986. */
const SCHEME = /[a-z][a-z0-9+.-]*:\/\//gi;

/** Characters that end the authority of a URL: before them there is no userinfo. */
const PAST_AUTHORITY = /[/?#]/;

/**
 * Show a broker URL, or a comma- or semicolon-separated list of them, with
 * every password replaced by `***`.
 * @example redactUrl("amqp://guest:guest@host:5672/") // "amqp://guest:***@host:5672/"
 * @example redactUrl("amqp://u:p@ss word@host/") // "amqp://u:***@host/"
 */
export function redactUrl(url: string): string {
  return redactCredentials(url);
}

/** Replace every URL password found anywhere in a piece of text (see the module notes). */
export function redactText(text: string): string {
  // Most log text holds no URL at all: skip the scan (logs run per task).
  if (!text.includes("://")) return text;
  return redactCredentials(text);
}

function redactCredentials(text: string): string {
  const starts = [...text.matchAll(SCHEME)].map((match) => ({
    at: match.index,
    after: match.index + match[0].length,
  }));
  if (starts.length === 0) return text;
  let out = text.slice(0, starts[0].at);
  for (const [i, { at, after }] of starts.entries()) {
    const next = starts[i + 1]?.at ?? text.length;
    const newline = text.indexOf("\n", after);
    const stop = newline === -1 ? next : Math.min(newline, next);
    out += text.slice(at, after) + redactAuthority(text.slice(after, stop)) +
      text.slice(stop, next);
  }
  return out;
}

/** `user:password@rest` → `user:***@rest`; anything without a `:` before its last `@` is kept. */
function redactAuthority(rest: string): string {
  const lastAt = rest.lastIndexOf("@");
  if (lastAt === -1) return rest;
  const colon = rest.indexOf(":");
  if (colon === -1 || colon > lastAt) return rest;
  const user = rest.slice(0, colon);
  // `host/path:x@y`: the `@` lies past the authority, there is no password.
  if (PAST_AUTHORITY.test(user)) return rest;
  return `${user}:***${rest.slice(lastAt)}`;
}
