import assert from "node:assert/strict";
import { formatSse, SseHub } from "./sse_hub.ts";

async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  needle: string,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes(needle)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

Deno.test("SseHub.broadcast() reaches every open page, after each page's snapshot", async () => {
  const hub = new SseHub();
  try {
    const pages = [1, 2].map((n) =>
      hub.open({ event: "snapshot", data: { page: n } }).body!.getReader()
    );
    assert.equal(hub.size, 2);
    hub.broadcast("tasks", [{ id: "t1" }]);
    for (const [i, reader] of pages.entries()) {
      const text = await readUntil(reader, "event: tasks");
      assert.ok(text.indexOf(`"page":${i + 1}`) < text.indexOf("event: tasks"));
      assert.match(text, /data: \[\{"id":"t1"\}\]/);
      await reader.cancel();
    }
    assert.equal(hub.size, 0);
  } finally {
    hub.close();
  }
});

Deno.test("SseHub drops a page that stopped reading once it falls maxQueued behind", async () => {
  const hub = new SseHub({ maxQueued: 3 });
  try {
    const response = hub.open();
    for (let i = 0; i < 10; i++) hub.broadcast("tick", i);
    assert.equal(hub.size, 0);
    await response.body!.cancel().catch(() => {});
  } finally {
    hub.close();
  }
});

Deno.test("SseHub answers with an event stream that caches nothing", () => {
  const hub = new SseHub();
  try {
    const response = hub.open();
    assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.equal(response.headers.get("cache-control"), "no-store");
    response.body!.cancel();
  } finally {
    hub.close();
  }
});

Deno.test("formatSse() writes one event with its JSON on one data line", () => {
  assert.equal(formatSse("x", { a: "line\nbreak" }), 'event: x\ndata: {"a":"line\\nbreak"}\n\n');
});
