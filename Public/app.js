// The popsink-pg dashboard: sources, pipelines with their status, start/stop,
// and a live tail of a pipeline's events. No build step, no dependencies.
//
// The tail reads the Server-Sent Events route with fetch() and a stream
// reader instead of EventSource, because EventSource cannot send the
// Authorization header a token-protected server needs. Parsing follows
// WHATWG HTML §9.2.6 ("Interpreting an event stream"); reconnects send
// Last-Event-ID, as EventSource would.
"use strict";

const TOKEN_KEY = "popsink-token";
const REFRESH_MS = 2000;
const TAIL_MAX = 500;
const TAIL_CONTEXT = 20;

const $ = (selector) => document.querySelector(selector);

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function headers(extra = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

function notice(text) {
  const box = $("#notice");
  box.hidden = !text;
  box.textContent = text || "";
}

async function api(method, path) {
  const response = await fetch(path, { method, headers: headers({ Accept: "application/json" }) });
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.status === 401) throw new Error("The server needs an API token: paste it above.");
  if (!response.ok) throw new Error((body && (body.detail || body.title)) || `${method} ${path}: ${response.status}`);
  return body;
}

// MARK: - Sources and pipelines

function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function formatLag(status) {
  if (!status) return "–";
  const seconds = status.lag_seconds === null || status.lag_seconds === undefined ? "–" : `${Number(status.lag_seconds).toFixed(1)} s`;
  return `${formatBytes(status.lag_bytes)} · ${seconds}`;
}

function formatLatency(status) {
  const latency = status && status.commit_to_durable_ms;
  if (!latency || !latency.count) return "–";
  const ms = (value) => (value === null || value === undefined ? "–" : `${Number(value).toFixed(1)} ms`);
  return `${ms(latency.p50)} / ${ms(latency.p99)}`;
}

function formatCount(value) {
  return value === null || value === undefined ? "–" : Number(value).toLocaleString();
}

/** Events stored, with the count per op in the tooltip. */
function eventsCell(status) {
  if (!status) return "–";
  const byOp = status.events_by_op || {};
  const names = { c: "inserts", u: "updates", d: "deletes", t: "truncates", r: "snapshot rows" };
  const detail = Object.entries(names).map(([op, name]) => `${op} ${formatCount(byOp[op])} ${name}`).join("\n");
  return el("span", { title: detail }, formatCount(status.events_stored));
}

/** The snapshot: tables done of the total and a bar over rows; per-table detail in the tooltip. */
function snapshotCell(status) {
  const snapshot = status && status.snapshot;
  if (!snapshot || !snapshot.tables_total) return "–";
  const detail = (snapshot.tables || []).map((table) =>
    `${table.schema}.${table.table}: ${table.state}, ${formatCount(table.rows_done)} of ~${formatCount(table.rows_estimated)} rows, `
    + `${table.chunks_done}/${table.chunks_total} chunks`).join("\n");
  const bar = snapshot.rows_estimated > 0
    ? el("progress", { max: snapshot.rows_estimated, value: Math.min(snapshot.rows_done, snapshot.rows_estimated) })
    : null;
  return el("span", { class: "snapshot", title: detail },
    `${snapshot.tables_done}/${snapshot.tables_total} tables · ${formatCount(snapshot.rows_done)} rows`, bar);
}

/** The slot's wal_status (warning when WAL is at risk) and the WAL it holds on the server. */
function slotCell(status) {
  const slot = status && status.slot;
  if (!slot) return "–";
  const safe = slot.safe_wal_bytes === null || slot.safe_wal_bytes === undefined
    ? "no max_slot_wal_keep_size limit" : `${formatBytes(slot.safe_wal_bytes)} until at risk`;
  return el("span", { class: `wal wal-${slot.wal_status}`, title: safe },
    slot.wal_status, " · ", formatBytes(slot.retained_wal_bytes));
}

function renderSources(sources) {
  const body = $("#sources tbody");
  body.replaceChildren();
  if (sources.length === 0) body.append(el("tr", {}, el("td", { class: "empty", colspan: 4 }, "No sources yet (POST /v1/sources).")));
  for (const source of sources) {
    body.append(el("tr", {},
      el("td", {}, el("code", {}, source.id)),
      el("td", {}, source.name || "–"),
      el("td", {}, `${source.user}@${source.host}:${source.port}/${source.database} (sslmode ${source.sslmode})`),
      el("td", {}, source.has_password ? "set" : "none")));
  }
}

function renderPipelines(pipelines, statuses) {
  const body = $("#pipelines tbody");
  body.replaceChildren();
  if (pipelines.length === 0) body.append(el("tr", {}, el("td", { class: "empty", colspan: 10 }, "No pipelines yet (PUT /v1/pipelines/{id}).")));
  for (const pipeline of pipelines) {
    const status = statuses.get(pipeline.id);
    const state = (status && status.state) || pipeline.state;
    const error = status && status.last_error;
    const running = !["created", "stopped", "finished", "failed"].includes(state);
    body.append(el("tr", {},
      el("td", {}, el("code", {}, pipeline.id)),
      el("td", {}, el("code", {}, pipeline.source_id)),
      el("td", {}, el("span", { class: `state state-${state}` }, state)),
      el("td", {}, snapshotCell(status)),
      el("td", {}, formatLag(status)),
      el("td", {}, slotCell(status)),
      el("td", {}, formatLatency(status)),
      el("td", {}, eventsCell(status)),
      el("td", { class: "error" }, error ? error.message : "", error && error.remediation ? el("small", {}, error.remediation) : null),
      el("td", { class: "actions" },
        running
          ? el("button", { type: "button", onclick: () => command(pipeline.id, "stop") }, "Stop")
          : el("button", { type: "button", onclick: () => command(pipeline.id, "start") }, "Start"),
        el("button", { type: "button", onclick: () => tail.follow(pipeline.id) }, "Tail"))));
  }
}

async function command(id, verb) {
  try {
    await api("POST", `/v1/pipelines/${encodeURIComponent(id)}/${verb}`);
    await refresh();
  } catch (error) {
    notice(error.message);
  }
}

let refreshing = false;
async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    const [sources, pipelines] = await Promise.all([api("GET", "/v1/sources"), api("GET", "/v1/pipelines")]);
    const statuses = new Map();
    await Promise.all(pipelines.map(async (pipeline) => {
      try {
        statuses.set(pipeline.id, await api("GET", `/v1/pipelines/${encodeURIComponent(pipeline.id)}/status`));
      } catch (_) { /* the row falls back to the pipeline's own state */ }
    }));
    renderSources(sources);
    renderPipelines(pipelines, statuses);
    notice("");
  } catch (error) {
    notice(error.message);
  } finally {
    refreshing = false;
  }
}

// MARK: - Live tail over Server-Sent Events

/** Splits a text/event-stream into messages (WHATWG HTML §9.2.6). */
class EventStreamParser {
  constructor(onMessage) {
    this.onMessage = onMessage;
    this.buffer = "";
    this.reset();
  }

  reset() {
    this.data = [];
    this.event = "";
    this.id = null;
  }

  push(text) {
    this.buffer += text;
    // A line ends at CRLF, LF or CR; a CR at the very end may be half of a CRLF.
    const lines = this.buffer.split(/\r\n|\n|\r(?!$)/);
    this.buffer = lines.pop();
    for (const line of lines) this.line(line);
  }

  line(line) {
    if (line === "") {
      if (this.data.length > 0) this.onMessage({ id: this.id, event: this.event || "message", data: this.data.join("\n") });
      this.reset();
      return;
    }
    if (line.startsWith(":")) return; // comment: keepalive
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.id = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.onRetry && this.onRetry(Number(value));
  }
}

const tail = {
  pipeline: null,
  controller: null,
  lastEventID: null,
  retryMs: 2000,

  follow(id) {
    this.stop();
    this.pipeline = id;
    this.lastEventID = null;
    $("#tail").hidden = false;
    $("#tail-pipeline").textContent = id;
    $("#tail-events").replaceChildren();
    this.connect();
  },

  stop() {
    if (this.controller) this.controller.abort();
    this.controller = null;
    this.pipeline = null;
    $("#tail-state").textContent = "(stopped)";
  },

  async connect() {
    const id = this.pipeline;
    if (!id) return;
    const controller = new AbortController();
    this.controller = controller;
    const extra = { Accept: "text/event-stream" };
    if (this.lastEventID !== null) extra["Last-Event-ID"] = this.lastEventID;
    // Start at the end on first connect: only new events are "live".
    const after = this.lastEventID === null ? `?after=${await this.startCursor(id)}` : "";
    try {
      const response = await fetch(`/v1/pipelines/${encodeURIComponent(id)}/events/stream${after}`,
        { headers: headers(extra), signal: controller.signal, cache: "no-store" });
      if (!response.ok) {
        const problem = await response.json().catch(() => null);
        if (response.status === 410 && problem && problem.first_available_after !== undefined) {
          // Retention deleted events the tail had not shown: go on from the oldest kept.
          this.lastEventID = String(problem.first_available_after);
          this.retryMs = 0;
        }
        throw new Error((problem && problem.detail) || `stream answered ${response.status}`);
      }
      $("#tail-state").textContent = "(following)";
      const parser = new EventStreamParser((message) => {
        if (message.id !== null) this.lastEventID = message.id;
        if (message.event === "change") this.show(message);
      });
      this.retryMs = 2000;
      parser.onRetry = (ms) => { this.retryMs = ms; };
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
      }
      $("#tail-state").textContent = "(reconnecting)";
    } catch (error) {
      if (controller.signal.aborted) return;
      $("#tail-state").textContent = `(${error.message}; retrying)`;
    }
    if (this.controller === controller && !controller.signal.aborted) {
      setTimeout(() => { if (this.controller === controller) this.connect(); }, this.retryMs);
    }
  },

  /**
   * Where a new tail starts: a few events before the newest, so it shows some
   * context and then what happens now. The API has no "last sequence" call,
   * but events are numbered without gaps, so "are there events after N?" is
   * monotonic in N and a binary search finds the newest in O(log n) requests.
   */
  async startCursor(id) {
    const path = `/v1/pipelines/${encodeURIComponent(id)}/events`;
    const after = async (n) => (await api("GET", `${path}?after=${n}&limit=1`)).events.length > 0;
    try {
      if (!(await after(0))) return 0;
      let low = 0; // events exist after `low`
      let high = 1;
      while (await after(high)) { low = high; high *= 2; }
      while (high - low > 1) {
        const middle = Math.floor((low + high) / 2);
        if (await after(middle)) low = middle; else high = middle;
      }
      return Math.max(0, high - TAIL_CONTEXT);
    } catch (_) {
      return 0;
    }
  },

  show(message) {
    let text = message.data;
    let op = "?";
    try {
      const event = JSON.parse(message.data);
      op = event.op || "?";
      const where = event.source ? `${event.source.schema}.${event.source.table}` : "";
      text = `${where} ${JSON.stringify(event.key ?? null)} ${JSON.stringify(event.after ?? event.before ?? null)}`;
    } catch (_) { /* show the raw data */ }
    const list = $("#tail-events");
    list.prepend(el("li", { value: message.id ?? "" }, el("span", { class: `op op-${op}` }, op), " ", text));
    while (list.children.length > TAIL_MAX) list.lastElementChild.remove();
  },
};

// MARK: - Start

$("#token").value = sessionStorage.getItem(TOKEN_KEY) || "";
$("#token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("#token").value.trim();
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  refresh();
});
$("#token-clear").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  $("#token").value = "";
  refresh();
});
$("#tail-stop").addEventListener("click", () => tail.stop());
$("#tail-clear").addEventListener("click", () => $("#tail-events").replaceChildren());

refresh();
setInterval(refresh, REFRESH_MS);
