// Following a pipeline's events over Server-Sent Events.
//
// The stream is read with fetch() and a stream reader instead of
// EventSource, because EventSource cannot send the Authorization header a
// token-protected server needs. Parsing follows WHATWG HTML §9.2.6
// ("Interpreting an event stream"); reconnects send Last-Event-ID, as
// EventSource would.

import { api, authorizedFetch, path } from "./api.js";

const CONTEXT_EVENTS = 20;

/** Splits a text/event-stream into messages (WHATWG HTML §9.2.6). */
export class EventStreamParser {
  constructor(onMessage, onRetry) {
    this.onMessage = onMessage;
    this.onRetry = onRetry;
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
    if (line.startsWith(":")) return; // a comment: keepalive
    const colon = line.indexOf(":");
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (name === "data") this.data.push(value);
    else if (name === "event") this.event = value;
    else if (name === "id" && !value.includes("\0")) this.id = value;
    else if (name === "retry" && /^\d+$/.test(value)) this.onRetry(Number(value));
  }
}

/** One pipeline's live events: `onEvent({seq, event})`, `onState(text)`. */
export class Tail {
  constructor(pipelineID, onEvent, onState) {
    this.pipelineID = pipelineID;
    this.onEvent = onEvent;
    this.onState = onState;
    this.controller = null;
    this.stopped = false;
    this.lastEventID = null;
    this.retryMs = 2000;
  }

  /** Connects unless connected; does nothing once stopped. */
  start() {
    if (this.controller || this.stopped) return;
    this.controller = new AbortController();
    this.connect(this.controller);
  }

  /**
   * Ends the stream for good: a view's refresh still in flight when the view
   * is left calls `start` afterwards, and must not open a stream nobody
   * stops (it went on reconnecting to a pipeline deleted meanwhile).
   */
  stop() {
    this.stopped = true;
    if (this.controller) this.controller.abort();
    this.controller = null;
  }

  async connect(controller) {
    const headers = { Accept: "text/event-stream" };
    if (this.lastEventID !== null) headers["Last-Event-ID"] = this.lastEventID;
    try {
      // First connect: start a little before the end, so the tail shows some context and then what happens now.
      const after = this.lastEventID === null ? `?after=${await this.startCursor()}` : "";
      const response = await authorizedFetch(`${path.pipeline(this.pipelineID)}/events/stream${after}`,
        { headers, signal: controller.signal, cache: "no-store" });
      if (!response.ok) {
        const problem = await response.json().catch(() => null);
        if (response.status === 410 && problem && problem.first_available_after !== undefined) {
          // Retention removed events the tail had not shown: go on from the oldest kept.
          this.lastEventID = String(problem.first_available_after);
          this.retryMs = 0;
        }
        throw new Error((problem && problem.detail) || `the stream answered ${response.status}`);
      }
      this.onState("following");
      this.retryMs = 2000;
      const parser = new EventStreamParser((message) => {
        if (message.id !== null) this.lastEventID = message.id;
        if (message.event !== "change") return;
        // The id is sent back as it came (Last-Event-ID); shown, it is the sequence after any store prefix.
        const seq = Number(String(message.id).split(":").pop());
        try {
          this.onEvent({ seq, event: JSON.parse(message.data) });
        } catch (_) {
          this.onEvent({ seq, event: { raw: message.data } });
        }
      }, (ms) => { this.retryMs = ms; });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
      }
      this.onState("reconnecting");
    } catch (failure) {
      if (controller.signal.aborted) return;
      this.onState(`${failure.message}; retrying`);
    }
    if (this.controller === controller && !controller.signal.aborted) {
      setTimeout(() => { if (this.controller === controller) this.connect(controller); }, this.retryMs);
    }
  }

  /** A cursor a few events before the newest: a page's `last_seq` is the store's last sequence. */
  async startCursor() {
    const page = await api("GET", `${path.pipeline(this.pipelineID)}/events?after=0&limit=1`);
    return Math.max(0, (page.last_seq || 0) - CONTEXT_EVENTS);
  }
}
