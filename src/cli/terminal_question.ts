/**
 * A yes/no question on the terminal: asked only when both stdin and stderr
 * are terminals (a person can answer), answered by one line on stdin.
 * @module
 */

/** How long a question waits for its answer before it counts as "no". */
const ANSWER_WITHIN_MS = 30_000;

/**
 * Ask `question` on stderr; true for an answer starting with y. No answer
 * within `ANSWER_WITHIN_MS`, end of input or anything else is false.
 */
export async function askYesNo(question: string, write: (text: string) => void): Promise<boolean> {
  write(`${question} [y/N] `);
  const reader = Deno.stdin.readable.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const timer = setTimeout(() => reader.cancel().catch(() => {}), ANSWER_WITHIN_MS);
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  if (!text.includes("\n")) write("\n");
  return /^\s*y/i.test(text);
}
