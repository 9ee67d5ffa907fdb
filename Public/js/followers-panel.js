// Who follows a pipeline's store, on its page: each sink (where it delivers,
// how far, its lag and errors; editing them is sink-editor.js's) and each named consumer (its acknowledged
// position, lag, and whether retention's hard cap cost it events).

import { el, formatCount } from "./dom.js";

function where(sink) {
  if (sink.type === "webhook") return sink.url;
  if (sink.type === "kafka") return `${sink.bootstrap_servers} → ${sink.topic}`;
  if (sink.type === "jetstream") return `${(sink.servers || []).join(", ")} → ${sink.stream}`;
  return "";
}

function table(id, columns, rows, empty) {
  return el("table", { class: "list", id },
    el("thead", {}, el("tr", {}, columns.map((name) => el("th", { scope: "col" }, name)))),
    el("tbody", {}, rows.length > 0 ? rows
      : [el("tr", {}, el("td", { colspan: columns.length, class: "empty" }, empty))]));
}

/**
 * The sinks of `pipeline` with their status (same order); with `actions`
 * (`{check(index), edit(index), remove(index)}`) each row has Check, Edit and Remove buttons.
 */
export function renderSinks(pipeline, statuses, actions = null) {
  const rows = (pipeline.sinks || []).map((sink, index) => {
    const sinkStatus = statuses[index] || {};
    const errors = Object.entries(sinkStatus.errors || {}).map(([kind, count]) => `${kind} ${formatCount(count)}`).join(", ");
    return el("tr", { "data-sink": sink.name },
      el("td", { "data-label": "Sink" }, el("code", {}, sink.name), ` (${sink.type})`),
      el("td", { "data-label": "Target" }, el("code", {}, where(sink))),
      el("td", { "data-label": "State" }, el("span", { class: `badge state-${sinkStatus.state}` }, sinkStatus.state || "–")),
      el("td", { "data-label": "Delivered up to", class: "number" }, formatCount(sinkStatus.delivered_seq ?? 0)),
      el("td", { "data-label": "Lag (events)", class: `number ${sinkStatus.lag > 0 ? "warn" : ""}` }, formatCount(sinkStatus.lag ?? 0)),
      el("td", { "data-label": "Confirms", }, sink.confirm === "delivered" ? "on delivery" : "on storage"),
      el("td", { "data-label": "Errors" }, errors || "none",
        sinkStatus.last_error && sinkStatus.state !== "running" ? el("span", { class: "error-line" }, sinkStatus.last_error) : null,
        sinkStatus.lost_events > 0 ? el("span", { class: "error-line" }, `${formatCount(sinkStatus.lost_events)} events lost to retention`) : null),
      actions ? el("td", { class: "actions" },
        el("button", { type: "button", "data-check-sink": sink.name, onclick: () => actions.check(index) }, "Check"),
        el("button", { type: "button", "data-edit-sink": sink.name, onclick: () => actions.edit(index) }, "Edit"),
        el("button", { type: "button", class: "danger", "data-remove-sink": sink.name, onclick: () => actions.remove(index) }, "Remove")) : null);
  });
  const columns = ["Sink", "Target", "State", "Delivered up to", "Lag (events)", "Confirms", "Errors"];
  return table("sinks", actions ? [...columns, "Actions"] : columns, rows,
    "No sinks: events stay in the store for consumers to read.");
}

/** The store's named consumers (sinks appear as `sink.<name>`). */
export function renderConsumers(consumers) {
  const rows = (consumers || []).map((consumer) => el("tr", { "data-consumer": consumer.name },
    el("td", { "data-label": "Consumer" }, el("code", {}, consumer.name)),
    el("td", { "data-label": "Acknowledged", class: "number" }, formatCount(consumer.acked_seq)),
    el("td", { "data-label": "Lag (events)", class: `number ${consumer.lag > 0 ? "warn" : ""}` }, formatCount(consumer.lag)),
    el("td", { "data-label": "Lost events" }, consumer.lost_events
      ? el("span", { class: "error-line" }, `yes, through ${formatCount(consumer.lost_through)}`) : "no")));
  return table("consumers", ["Consumer", "Acknowledged", "Lag (events)", "Lost events"], rows,
    "No named consumers. A consumer registers with PUT /v1/pipelines/{id}/consumers/{name}.");
}
