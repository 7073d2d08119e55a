import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import type { TaskEvent } from "../report/task_event.ts";
import { type JournalHeader, journalPath } from "./journal_record.ts";
import { readJournal } from "./journal_reader.ts";
import { JournalWriter } from "./journal_writer.ts";

const HEADER: JournalHeader = {
  kind: "run",
  version: 1,
  run_id: "20261128_100000-4f09a2",
  name: "journal test",
  broker: "amqp://guest:***@localhost:5672/",
  config: "config/test-config.yml",
  started_at: "2026-11-28T10:00:00.000Z",
  timeout_ms: 60_000,
  reply_queue: "dts.reply.20261128_100000-4f09a2",
  reply_queue_expires_ms: 3_660_000,
  expected_workers: 2,
  workers: ["worker-a@host"],
  jobs: [{ id: "id-1", task: "task_a", queue: "queue_a" }],
};

const SENT: TaskEvent = { type: "SENT", id: "id-1", task: "task_a", queue: "queue_a", at: 1 };
const SUCCESS: TaskEvent = {
  type: "SUCCESS",
  id: "id-1",
  task: "task_a",
  queue: "queue_a",
  at: 2,
  result: { deep: ["ok", 1, null] },
  runtimeMs: 1.5,
  worker: "w@h",
  retries: 0,
};

async function withDir(test: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dts_journal_" });
  try {
    await test(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("JournalWriter writes a first line and one line per entry; readJournal() reads them back", async () => {
  await withDir(async (dir) => {
    const path = journalPath(`${dir}/results/`, HEADER.run_id);
    assert.equal(path, `${dir}/results/dispatch_20261128_100000-4f09a2.jsonl`);
    const writer = await JournalWriter.create(path, HEADER);
    await writer.append([{ kind: "event", event: SENT }]);
    await writer.append([{ kind: "event", event: SUCCESS }, { kind: "resumed", at: 3 }]);
    await writer.close();
    const text = await Deno.readTextFile(path);
    assert.equal(text.split("\n").length, 5);
    assert.ok(text.endsWith("\n"));
    const journal = await readJournal(path);
    assert.ok(journal);
    assert.deepEqual(journal.header, HEADER);
    assert.deepEqual(journal.entries, [
      { kind: "event", event: SENT },
      { kind: "event", event: SUCCESS },
      { kind: "resumed", at: 3 },
    ]);
    assert.equal(journal.tornTail, false);
    assert.equal(journal.validBytes, new TextEncoder().encode(text).length);
  });
});

Deno.test("JournalWriter keeps the order of concurrent appends and resolves each once it is written", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/j.jsonl`;
    const writer = await JournalWriter.create(path, HEADER);
    const events = Array.from({ length: 200 }, (_, i) => ({ ...SENT, at: i }));
    await Promise.all(events.map(async (event) => {
      await writer.append([{ kind: "event", event }]);
      // Resolved: the line is in the file already.
      const text = await Deno.readTextFile(path);
      assert.ok(text.includes(`"at":${event.at}}`), `line ${event.at} written`);
    }));
    await writer.close();
    const journal = await readJournal(path);
    assert.deepEqual(
      journal?.entries.map((e) => e.kind === "event" && e.event.at),
      events.map((e) => e.at),
    );
  });
});

Deno.test("JournalWriter.create() never overwrites a journal; append() after close() fails", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/j.jsonl`;
    const writer = await JournalWriter.create(path, HEADER);
    await writer.close();
    await assert.rejects(() => JournalWriter.create(path, HEADER), Deno.errors.AlreadyExists);
    await assert.rejects(() => writer.append([{ kind: "resumed", at: 1 }]), /it is closed/);
  });
});

Deno.test("readJournal() skips a last line torn by a crash, and reopen() cuts it off", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/j.jsonl`;
    const writer = await JournalWriter.create(path, HEADER);
    await writer.append([{ kind: "event", event: SENT }]);
    await writer.close();
    const whole = (await Deno.stat(path)).size;
    // Killed in the middle of writing the SUCCESS line.
    const line = JSON.stringify({ kind: "event", event: SUCCESS });
    await Deno.writeTextFile(path, line.slice(0, 25), { append: true });

    const journal = await readJournal(path);
    assert.ok(journal);
    assert.equal(journal.tornTail, true);
    assert.equal(journal.validBytes, whole);
    assert.deepEqual(journal.entries, [{ kind: "event", event: SENT }]);

    const again = await JournalWriter.reopen(path, journal.validBytes);
    await again.append([{ kind: "event", event: SUCCESS }]);
    await again.close();
    const after = await readJournal(path);
    assert.equal(after?.tornTail, false);
    assert.deepEqual(after?.entries, [
      { kind: "event", event: SENT },
      { kind: "event", event: SUCCESS },
    ]);
  });
});

Deno.test("readJournal() treats a whole but unreadable last line as torn, too", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/j.jsonl`;
    const writer = await JournalWriter.create(path, HEADER);
    await writer.append([{ kind: "event", event: SENT }]);
    await writer.close();
    const whole = (await Deno.stat(path)).size;
    await Deno.writeFile(path, new Uint8Array([0, 0, 0, 0x0a]), { append: true });
    const journal = await readJournal(path);
    assert.equal(journal?.tornTail, true);
    assert.equal(journal?.validBytes, whole);
    assert.equal(journal?.entries.length, 1);
  });
});

Deno.test("readJournal() is null for a missing file and a UsageError for a broken one", async () => {
  await withDir(async (dir) => {
    assert.equal(await readJournal(`${dir}/none.jsonl`), null);
    const path = `${dir}/j.jsonl`;
    await Deno.writeTextFile(path, `{"kind":"run","vers`);
    await assert.rejects(
      () => readJournal(path),
      (e) => e instanceof UsageError && /no complete first line/.test(e.message),
    );
    await Deno.writeTextFile(path, `{"hello":1}\n`);
    await assert.rejects(() => readJournal(path), /first line does not describe a dispatch run/);
    const good = JSON.stringify(HEADER);
    await Deno.writeTextFile(
      path,
      `${good}\nnot json\n${JSON.stringify({ kind: "resumed", at: 1 })}\n`,
    );
    await assert.rejects(() => readJournal(path), /line 2 is not a journal entry/);
  });
});
