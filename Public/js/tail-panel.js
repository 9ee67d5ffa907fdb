// The live tail's panel: the newest events first, pause, filters by table
// and op, and one event's JSON. Events keep arriving while paused; the list
// is redrawn on resume.

import { el } from "./dom.js";

const KEEP = 500;
const OPS = { c: "insert", u: "update", d: "delete", t: "truncate", r: "snapshot row", s: "schema", m: "message" };

function tableOf(event) {
  return event.source && event.source.table ? `${event.source.schema}.${event.source.table}` : "";
}

export function tailPanel() {
  const events = [];
  const seenTables = new Set();
  let paused = false;
  let selected = null;

  const state = el("span", { class: "muted", id: "tail-state" }, "connecting");
  const list = el("ol", { class: "tail", id: "tail-events", "aria-label": "Events, newest first" });
  const json = el("pre", { class: "json", id: "tail-json", tabindex: "0", "aria-label": "The selected event as JSON" });
  const pause = el("button", { type: "button", id: "tail-pause", "aria-pressed": "false" }, "Pause");
  const clear = el("button", { type: "button", id: "tail-clear" }, "Clear");
  const tableFilter = el("select", { id: "tail-table" }, el("option", { value: "" }, "all tables"));
  const opBoxes = Object.entries(OPS).map(([op, name]) =>
    el("label", { class: "check op-choice", title: name }, el("input", { type: "checkbox", value: op, checked: true, "data-op": op }), ` ${op}`));
  const pending = el("span", { class: "muted", id: "tail-pending" });

  const shown = (message) => {
    const ops = new Set(opBoxes.map((box) => box.querySelector("input")).filter((box) => box.checked).map((box) => box.value));
    return ops.has(message.event.op) && (!tableFilter.value || tableOf(message.event) === tableFilter.value);
  };

  function row(message) {
    const event = message.event;
    const key = event.key !== undefined ? JSON.stringify(event.key) : "";
    const button = el("button", { type: "button", class: "event", "aria-pressed": String(selected === message) },
      el("span", { class: `op op-${event.op}`, title: OPS[event.op] || event.op }, event.op || "?"),
      el("span", { class: "seq" }, `#${message.seq}`),
      el("code", {}, tableOf(event)),
      el("span", { class: "key" }, key));
    button.addEventListener("click", () => {
      selected = message;
      json.textContent = JSON.stringify(event, null, 2);
      for (const other of list.querySelectorAll("button[aria-pressed=true]")) other.setAttribute("aria-pressed", "false");
      button.setAttribute("aria-pressed", "true");
    });
    return el("li", { "data-seq": message.seq, "data-op": event.op, "data-table": tableOf(event) }, button);
  }

  function redraw() {
    list.replaceChildren(...events.filter(shown).reverse().map(row));
    pending.textContent = "";
  }

  pause.addEventListener("click", () => {
    paused = !paused;
    pause.textContent = paused ? "Resume" : "Pause";
    pause.setAttribute("aria-pressed", String(paused));
    if (!paused) redraw();
  });
  clear.addEventListener("click", () => { events.length = 0; json.textContent = ""; selected = null; redraw(); });
  tableFilter.addEventListener("change", redraw);
  for (const box of opBoxes) box.addEventListener("change", redraw);

  const node = el("section", { class: "panel", id: "tail" },
    el("h2", {}, "Live events ", state),
    el("div", { class: "toolbar" },
      pause, clear,
      el("label", { for: "tail-table" }, "Table"), tableFilter,
      el("fieldset", { class: "ops" }, el("legend", {}, "Ops"), opBoxes),
      pending),
    el("div", { class: "tail-body" }, list, json));
  json.textContent = "Select an event to see its JSON.";

  return {
    node,
    setState(text) { state.textContent = `(${text})`; },
    add(message) {
      events.push(message);
      if (events.length > KEEP) events.shift();
      const table = tableOf(message.event);
      if (table && !seenTables.has(table)) {
        seenTables.add(table);
        tableFilter.append(el("option", { value: table }, table));
      }
      if (paused) {
        pending.textContent = `${events.filter(shown).length} events held while paused`;
        return;
      }
      if (shown(message)) {
        list.prepend(row(message));
        while (list.children.length > KEEP) list.lastElementChild.remove();
      }
    },
  };
}
