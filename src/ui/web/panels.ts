/// <reference lib="dom" />
/**
 * The dashboard's panels: workers, queues, tasks (searchable, with Revoke),
 * dead letters (Replay, Purge) and saved dispatch results.
 * @module
 */
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { ago, clockTime, count, duration } from "./format.ts";
import {
  type DeadLetterView,
  postAction,
  type QueueView,
  type ResultsFileEntry,
  type TaskRow,
  type WorkerRow,
} from "./live_state.ts";

type Node = ReturnType<typeof html>;

/** Workers, online first. */
export function WorkersPanel(props: { workers: WorkerRow[]; now: number }): Node {
  const rows = [...props.workers].sort((a, b) =>
    Number(b.online) - Number(a.online) || a.name.localeCompare(b.name)
  );
  return html`<section id="workers" class="wide"><h2>Workers (${
    rows.filter((w) => w.online).length
  } online)</h2>
    ${
    rows.length === 0 ? html`<p class="muted">No worker has answered yet.</p>` : html`
      <table>
        <thead>
          <tr>
            <th>worker</th>
            <th>host</th>
            <th>tasks</th>
            <th class="num">in use</th>
            <th class="num">processed</th>
            <th>last heartbeat</th>
            <th>state</th>
          </tr>
        </thead>
        <tbody>${rows.map((w) =>
          html`
            <tr data-worker=${w.name}>
              <td class="mono">${w.name}</td>
              <td>${w.host || "–"}</td>
              <td>${w.tasks.join(", ") || "–"}</td>
              <td class="num">${count(w.active)}/${count(w.concurrency)}</td>
              <td class="num">${count(w.processed)}</td>
              <td>${ago(w.lastHeartbeatMs, props.now)}</td>
              <td class=${w.online ? "online" : "offline"}><span class="dot"></span>${w.online
                ? "online"
                : "offline"}</td>
            </tr>
          `
        )}</tbody>
      </table>
    `
  }</section>`;
}

/** Task queues with depth, consumers, rates and dead letters. */
export function QueuesPanel(props: { queues: QueueView[] }): Node {
  return html`
    <section id="queues">
      <h2>Queues</h2>
      <table>
        <thead>
          <tr>
            <th>queue</th>
            <th>task</th>
            <th class="num">ready</th>
            <th class="num">consumers</th>
            <th class="num">in/s</th>
            <th class="num">out/s</th>
            <th class="num">dead</th>
          </tr>
        </thead>
        <tbody>${props.queues.map((q) =>
          html`
            <tr data-queue=${q.queue}>
              <td class="mono">${q.queue}</td>
              <td>${q.task}</td>
              <td class="num">${count(q.messages)}</td>
              <td class="num">${count(q.consumers)}</td>
              <td class="num">${count(q.rateIn)}</td>
              <td class="num">${count(q.rateOut)}</td>
              <td class=${"num" + (q.dead ? " offline" : "")}>${count(q.dead)}</td>
            </tr>
          `
        )}
        </tbody>
      </table>
    </section>
  `;
}

const REVOCABLE = new Set(["PENDING", "RECEIVED", "STARTED", "RETRY"]);

/** Tasks as they flow, newest first; searchable by id or name. */
export function TasksPanel(props: { tasks: Map<string, TaskRow> }): Node {
  const [query, setQuery] = useState("");
  const [notice, setNotice] = useState<string | null>(null);
  const q = query.trim().toLowerCase();
  const all = [...props.tasks.values()].reverse();
  const shown = all.filter((t) =>
    q === "" || t.id.toLowerCase().includes(q) || (t.name ?? "").toLowerCase().includes(q)
  ).slice(0, 300);
  const revoke = async (id: string) => {
    try {
      await postAction("/api/revoke", { id, terminate: true });
      setNotice(`Revoked ${id}`);
    } catch (error) {
      setNotice(`Cannot revoke ${id}: ${(error as Error).message}`);
    }
  };
  return html`<section id="tasks" class="wide"><h2>Tasks (${all.length})</h2>
    <p><input type="search" placeholder="Search by task id or name" value=${query}
      onInput=${(e: Event) => setQuery((e.target as HTMLInputElement).value)} />
      <span class="muted"> ${shown.length} shown</span></p>
    ${notice && html`<div class="notice">${notice}</div>`}
    <div class="scroll"><table><thead><tr><th>id</th><th>task</th><th>state</th><th>worker</th>
      <th class="num">retries</th><th class="num">runtime</th><th>received</th><th></th></tr></thead>
    <tbody>${
    shown.map((t) =>
      html`
        <tr data-task=${t.id} data-state=${t.state}>
          <td class="mono">${t.id}</td>
          <td>${t.name ?? "–"}</td>
          <td><span class=${"pill s-" + t.state}>${t.state}</span></td>
          <td class="mono">${t.worker ?? "–"}</td>
          <td class="num">${t.retries}</td>
          <td class="num">${duration(t.runtimeMs)}</td>
          <td>${clockTime(t.receivedMs ?? t.updatedMs)}</td>
          <td>${REVOCABLE.has(t.state)
            ? html`<button class="danger" onClick=${() => revoke(t.id)}>Revoke</button>`
            : ""}</td>
        </tr>
      `
    )
  }</tbody></table></div></section>`;
}

/** Dead letters per queue, with Replay and Purge. */
export function DeadLettersPanel(props: { deadLetters: DeadLetterView[] }): Node {
  const [notice, setNotice] = useState<string | null>(null);
  const act = async (action: "replay" | "purge", queue: string, total: number) => {
    if (action === "purge" && !confirm(`Drop ${total} dead letters of ${queue} for good?`)) return;
    try {
      const answer = await postAction(`/api/dlq/${action}`, { queue });
      setNotice(
        action === "replay"
          ? `Replayed ${answer.replayed} to ${queue}`
          : `Purged ${answer.purged} from ${queue}.dead`,
      );
    } catch (error) {
      setNotice(`Cannot ${action}: ${(error as Error).message}`);
    }
  };
  return html`<section id="dead-letters" class="wide"><h2>Dead letters</h2>
    ${notice && html`<div class="notice" id="dlq-notice">${notice}</div>`}
    ${
    props.deadLetters.length === 0
      ? html`<p class="muted">No dead letters.</p>`
      : props.deadLetters.map((d) =>
        html`
          <div data-dead-queue=${d.queue}>
            <p><b class="mono">${d.queue}.dead</b> ${d.total} message${d.total === 1 ? "" : "s"}
            <button onClick=${() => act("replay", d.queue, d.total)}>Replay</button>
            <button class="danger" onClick=${() =>
              act("purge", d.queue, d.total)}>Purge</button></p>
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th>id</th>
                    <th>task</th>
                    <th>reason</th>
                    <th>error</th>
                    <th class="num">retries</th>
                    <th>dead at</th>
                  </tr>
                </thead>
                <tbody>${d.messages.map((m) =>
                  html`
                    <tr data-dead=${m.id ?? ""}>
                      <td class="mono">${m.id ?? "?"}</td>
                      <td>${m.task ?? "?"}</td>
                      <td>${m.reason ?? "?"}</td>
                      <td>${m.error_type ? `${m.error_type}: ${m.error_message ?? ""}` : "–"}</td>
                      <td class="num">${count(m.retries)}</td>
                      <td>${m.dead_at ?? "–"}</td>
                    </tr>
                  `
                )}</tbody>
              </table>
            </div>
          </div>
        `
      )
  }
  </section>`;
}

/** Saved dispatch results files, newest first. */
export function ResultsPanel(props: { results: ResultsFileEntry[] }): Node {
  return html`<section id="results" class="wide"><h2>Dispatch results files</h2>
    ${
    props.results.length === 0 ? html`<p class="muted">No results files saved yet.</p>` : html`
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>file</th>
              <th>run</th>
              <th class="num">tasks</th>
              <th class="num">ok</th>
              <th class="num">failed</th>
            </tr>
          </thead>
          <tbody>${props.results.map((r) =>
            html`
              <tr>
                <td class="mono"><a href=${"/api/results/" +
                  encodeURIComponent(r.file)} target="_blank">${r.file}</a></td>
                <td>${r.name ?? "–"}${r.interrupted ? " (interrupted)" : ""}</td>
                <td class="num">${count(r.tasks)}</td>
                <td class="num">${count(r.succeeded)}</td>
                <td class="num">${count(r.failed)}</td>
              </tr>
            `
          )}
          </tbody>
        </table>
      </div>
    `
  }</section>`;
}
