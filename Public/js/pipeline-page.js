// One pipeline's page: state and last error, lag and throughput charts,
// latency, slot health, snapshot progress per table, backfills, schema
// history per table, its sinks and named consumers, its configuration, and a
// live tail of its events.

import { APIError, api, path } from "./api.js";
import { drawChart, recordSample, samplesOf } from "./chart.js";
import {
  RESTING_STATES, clearFieldErrors, el, notice, formatBytes, formatCount, formatMilliseconds, formatSeconds,
  showFieldErrors, stateBadge,
} from "./dom.js";
import { Tail } from "./event-stream.js";
import { backfillsPanel } from "./backfills-panel.js";
import { filterEditor } from "./filter-editor.js";
import { renderConsumers, renderSinks } from "./followers-panel.js";
import { holdable } from "./holdable.js";
import { command, deletePipeline, snapshotEnabled } from "./pipelines.js";
import { schemaPanel } from "./schema-panel.js";
import { checkSink, removeSink, sinkForm } from "./sink-editor.js";
import { tailPanel } from "./tail-panel.js";

const OP_NAMES = { c: "inserts", u: "updates", d: "deletes", t: "truncates", r: "snapshot rows" };

function stat(label, id) {
  const value = el("p", { class: "value", id }, "–");
  const detail = el("p", { class: "detail" });
  return { node: el("div", { class: "stat" }, el("h3", {}, label), value, detail), value, detail };
}

/** The snapshot's progress: one bar per table, with the counts in words beside it. */
function renderSnapshot(snapshot) {
  if (!snapshot || snapshot.tables_total === 0) return el("p", { class: "muted" }, "No snapshot in this run.");
  return el("div", {},
    el("p", {}, `${snapshot.tables_done} of ${snapshot.tables_total} tables done, ${formatCount(snapshot.rows_done)} rows of ~${formatCount(snapshot.rows_estimated)} estimated.`),
    el("ul", { class: "progress-list", id: "snapshot-tables" }, snapshot.tables.map((table) => {
      // A table Postgres never analyzed estimates 0 rows: its bar shows chunks instead.
      const max = table.rows_estimated > 0 ? table.rows_estimated : Math.max(table.chunks_total, 1);
      const value = table.state === "done" ? max
        : table.rows_estimated > 0 ? Math.min(table.rows_done, table.rows_estimated) : table.chunks_done;
      const label = `${table.schema}.${table.table}`;
      return el("li", {},
        el("span", { class: "name" }, el("code", {}, label)),
        el("progress", { max, value, "aria-label": `${label} snapshot progress` }),
        el("span", { class: "detail" }, `${table.state}: ${formatCount(table.rows_done)} rows, ${table.chunks_done}/${table.chunks_total} chunks`));
    })));
}

function renderConfiguration(pipeline) {
  const filters = pipeline.filters;
  const list = (patterns) => (patterns.length > 0 ? patterns.map((pattern) => el("code", {}, pattern)).flatMap((node, index) => (index > 0 ? [", ", node] : [node])) : "–");
  const settings = pipeline.snapshot || {};
  const fact = (name, ...value) => [el("dt", {}, name), el("dd", {}, ...value)];
  return el("dl", { class: "facts" },
    ...fact("Source", el("a", { href: `#/sources/${encodeURIComponent(pipeline.source_id)}` }, pipeline.source_id)),
    ...fact("Publication", el("code", {}, pipeline.publication)),
    ...fact("Slot", el("code", {}, pipeline.slot_name)),
    ...fact("Include schemas", list(filters.include_schemas)),
    ...fact("Exclude schemas", list(filters.exclude_schemas)),
    ...fact("Include tables", list(filters.include_tables)),
    ...fact("Exclude tables", list(filters.exclude_tables)),
    ...fact("Snapshot", snapshotEnabled(pipeline)
      ? `on first start, ${settings.workers ?? "–"} workers, ${formatCount(settings.chunk_pages)} pages per chunk`
      : "off: streams from the slot's start"),
    ...fact("Retention", retentionText(pipeline.retention)),
    ...fact("Desired state", pipeline.desired_state));
}

function retentionText(retention) {
  if (!retention) return "–";
  const seconds = retention.max_age_seconds;
  const age = seconds === null ? "any age"
    : seconds % 86400 === 0 ? `up to ${seconds / 86400} days` : `up to ${formatSeconds(seconds)}`;
  const size = retention.max_bytes === null ? "any size" : `up to ${formatBytes(retention.max_bytes)}`;
  const cap = retention.hard_max_bytes === null ? "no hard cap" : `hard cap ${formatBytes(retention.hard_max_bytes)}`;
  return `${age}, ${size}; ${cap} for consumers and sinks`;
}

/**
 * The pipeline's filters as a form with the preview; saving replaces them
 * (PUT …/filters). A running pipeline restarts with them before the answer
 * comes, and the server stores the record first: `view`'s refresh is held
 * meanwhile, so the page never shows the new filters beside the state of the
 * run that still captures by the old ones.
 */
function filtersForm(pipeline, view, onSaved) {
  const editor = filterEditor("edit", pipeline.filters);
  const result = el("p", { role: "status", class: "muted" });
  const form = el("form", { class: "filters-form", novalidate: true },
    el("div", { class: "grid" }, editor.fields),
    editor.preview,
    result,
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary", id: "save-filters" }, "Save filters")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    result.textContent = "Saving; a running pipeline restarts with them…";
    await view.hold();
    try {
      onSaved(await api("PUT", `${path.pipeline(pipeline.id)}/filters`, editor.filters()));
      result.textContent = "Saved. A running pipeline restarted with them: newly included tables are captured from now on (their rows follow as r events when the snapshot is on).";
    } catch (failure) {
      result.textContent = "";
      const unplaced = failure instanceof APIError ? showFieldErrors(form, failure.fieldErrors) : [];
      if (!(failure instanceof APIError) || failure.fieldErrors.length === 0 || unplaced.length > 0) {
        result.textContent = unplaced.length > 0 ? unplaced.join("; ") : failure.message;
      }
    } finally {
      view.release();
      view.refresh().catch((failure) => notice(failure.message));
    }
  });
  const details = el("details", { class: "edit-filters" }, el("summary", {}, "Edit filters"), form);
  details.addEventListener("toggle", () => { if (details.open) editor.load(pipeline.source_id, pipeline.publication); });
  return details;
}

export function pipelineView(main, id) {
  const title = el("h1", {}, id, " ");
  const badge = el("span", { id: "pipeline-state" });
  title.append(badge);
  const actions = el("div", { class: "actions", id: "pipeline-actions" });
  const errorBox = el("section", { class: "panel error-panel", id: "last-error", hidden: true, role: "status" });
  const lag = stat("Lag", "stat-lag");
  const rate = stat("Events per second", "stat-rate");
  const latencyStat = stat("Commit → durable", "stat-latency");
  const slotStat = stat("Replication slot", "stat-slot");
  const stored = stat("Events stored", "stat-events");
  const positions = stat("WAL positions", "stat-lsn");
  const transport = stat("Connection", "stat-tls");
  const charts = {
    lagBytes: el("figure", { class: "chart-box", id: "chart-lag-bytes" }),
    lagSeconds: el("figure", { class: "chart-box", id: "chart-lag-seconds" }),
    rate: el("figure", { class: "chart-box", id: "chart-rate" }),
  };
  const snapshotBox = el("div", { id: "snapshot-box", "aria-live": "polite" });
  const sinksBox = el("div", { id: "sinks-box" });
  const sinkEditorBox = el("div", { id: "sink-editor-box" });
  const addSink = el("button", { type: "button", id: "add-sink" }, "Add sink");
  const consumersBox = el("div", { id: "consumers-box" });
  const configuration = el("div", { id: "configuration" });
  const filtersBox = el("div");
  let pipeline = null;
  let shownState = null;
  const shown = { error: null, snapshot: null, updated: null, sinks: null, consumers: null };

  // The store-backed panels are read every few refreshes, not every second, and at once after a change.
  let refreshes = 0;
  const schemas = schemaPanel(id);
  const backfills = backfillsPanel(id, () => {
    refreshes = 0;
    view.refresh().catch((failure) => notice(failure.message));
  });
  const tail = tailPanel();
  const follower = new Tail(id, (message) => tail.add(message), (state) => tail.setState(state));

  const view = holdable({
    interval: 1000,
    async refresh() {
      const [fresh, status] = await Promise.all([api("GET", path.pipeline(id)), api("GET", `${path.pipeline(id)}/status`)]);
      pipeline = fresh;
      recordSample(id, status);
      badge.replaceChildren(stateBadge(status.state));
      if (shownState !== status.state) { shownState = status.state; renderActions(status.state); }

      // Live regions are redrawn only when what they say changes, so a screen reader hears each change once.
      const error = status.last_error;
      errorBox.hidden = !error;
      const errorText = JSON.stringify(error);
      if (error && errorText !== shown.error) {
        shown.error = errorText;
        errorBox.replaceChildren(
          el("h2", {}, el("span", { "aria-hidden": "true" }, "⚠ "), error.retryable ? "Retrying after an error" : "Stopped by an error"),
          el("p", {}, error.message),
          el("p", { class: "muted" }, `code ${error.code}${error.sqlstate ? `, SQLSTATE ${error.sqlstate}` : ""}`),
          error.remediation ? el("p", { class: "remediation-text" }, el("strong", {}, "What to do: "), error.remediation) : null);
      }

      lag.value.textContent = `${formatBytes(status.lag_bytes)} · ${formatSeconds(status.lag_seconds)}`;
      lag.detail.textContent = "WAL on the server not yet durable here, and the age of the last stored commit.";
      const samples = samplesOf(id);
      const last = samples[samples.length - 1];
      rate.value.textContent = last && last.rate !== null ? `${last.rate.toFixed(1)} /s` : "–";
      rate.detail.textContent = `Reconnects: ${formatCount(status.reconnects)}`;
      const latency = status.commit_to_durable_ms;
      latencyStat.value.textContent = latency.count > 0 ? `p50 ${formatMilliseconds(latency.p50)} · p99 ${formatMilliseconds(latency.p99)}` : "–";
      latencyStat.detail.textContent = latency.count > 0 ? `max ${formatMilliseconds(latency.max)} over ${formatCount(latency.count)} transactions` : "No transaction yet.";
      const slot = status.slot;
      slotStat.value.replaceChildren(slot ? el("span", { class: `badge wal-${slot.wal_status}` }, slot.wal_status) : "–");
      slotStat.detail.textContent = slot
        ? `${formatBytes(slot.retained_wal_bytes)} WAL retained; ${slot.safe_wal_bytes === null ? "no max_slot_wal_keep_size limit" : `${formatBytes(slot.safe_wal_bytes)} until at risk`}`
        : "Not read yet.";
      stored.value.textContent = formatCount(status.events_stored);
      stored.detail.textContent = Object.entries(OP_NAMES).map(([op, name]) => `${name} ${formatCount(status.events_by_op[op])}`).join(", ");
      const security = status.tls;
      transport.value.replaceChildren(!security ? "–"
        : el("span", { class: `badge ${security.warning ? "tls-weak" : "tls-ok"}` },
          el("span", { "aria-hidden": "true" }, security.warning ? "! " : "🔒 "),
          security.encrypted ? security.protocol || "TLS" : "not encrypted"));
      transport.detail.textContent = !security ? "Not connected yet."
        : security.warning || `sslmode ${security.sslmode}, certificate ${security.verified ? "verified" : "not verified"}`;
      positions.value.textContent = status.flushed_lsn || "–";
      positions.detail.textContent = `flushed; received ${status.received_lsn || "–"}, server ${status.server_lsn || "–"}`;

      const now = Date.now();
      drawChart(charts.lagBytes, "Lag (bytes)", samples.map((sample) => ({ at: sample.at, value: sample.lagBytes })), formatBytes, now);
      drawChart(charts.lagSeconds, "Lag (seconds)", samples.map((sample) => ({ at: sample.at, value: sample.lagSeconds })), formatSeconds, now);
      drawChart(charts.rate, "Events per second", samples.map((sample) => ({ at: sample.at, value: sample.rate })), (value) => `${Number(value).toFixed(1)}/s`, now);
      const snapshotText = JSON.stringify(status.snapshot);
      if (snapshotText !== shown.snapshot) {
        shown.snapshot = snapshotText;
        snapshotBox.replaceChildren(renderSnapshot(status.snapshot));
      }
      const sinksText = JSON.stringify([pipeline.sinks, status.sinks]);
      if (sinksText !== shown.sinks) {
        shown.sinks = sinksText;
        sinksBox.replaceChildren(renderSinks(pipeline, status.sinks || [], sinkActions));
      }
      const consumersText = JSON.stringify(status.consumers);
      if (consumersText !== shown.consumers) {
        shown.consumers = consumersText;
        consumersBox.replaceChildren(renderConsumers(status.consumers));
      }
      if (pipeline.updated_at !== shown.updated) {
        shown.updated = pipeline.updated_at;
        configuration.replaceChildren(renderConfiguration(pipeline));
      }
      if (refreshes++ % 3 === 0) {
        await schemas.refresh();
        await backfills.refresh(schemas.tables());
      }
      if (!filtersBox.firstChild) filtersBox.append(filtersForm(pipeline, view, (saved) => configuration.replaceChildren(renderConfiguration(saved))));
      follower.start();
    },
    dispose() {
      follower.stop();
    },
  });

  // The sink form lives beside the table, which is redrawn as the sinks' status moves.
  function editSink(index) {
    if (!pipeline) return;
    addSink.hidden = true;
    const close = () => { sinkEditorBox.replaceChildren(); addSink.hidden = false; addSink.focus(); };
    sinkEditorBox.replaceChildren(sinkForm(pipeline, index, (saved) => {
      pipeline = saved;
      close();
      view.refresh().catch((failure) => notice(failure.message));
    }, close));
    sinkEditorBox.querySelector("input").focus();
  }
  const sinkActions = {
    async check(index) {
      if (!pipeline) return;
      addSink.hidden = false;
      sinkEditorBox.replaceChildren(el("p", { class: "muted" }, `Checking sink ${pipeline.sinks[index].name}…`));
      sinkEditorBox.replaceChildren(await checkSink(pipeline, index));
    },
    edit: editSink,
    async remove(index) {
      if (!pipeline) return;
      try {
        if (await removeSink(pipeline, index)) await view.refresh();
      } catch (failure) {
        notice(failure.message);
      }
    },
  };
  addSink.addEventListener("click", () => { if (pipeline) editSink(pipeline.sinks.length); });

  function renderActions(state) {
    const resting = RESTING_STATES.includes(state);
    const run = (verb) => async () => { await command(id, verb); view.refresh().catch((failure) => notice(failure.message)); };
    actions.replaceChildren(
      resting
        ? el("button", { type: "button", class: "primary", id: "action-start", onclick: run("start") }, "Start")
        : el("button", { type: "button", id: "action-stop", onclick: run("stop") }, "Stop"),
      el("button", { type: "button", id: "action-restart", onclick: run("restart") }, "Restart"),
      el("button", { type: "button", class: "danger", id: "action-delete", onclick: async () => {
        if (pipeline && await deletePipeline(pipeline, view, () => follower.stop())) location.hash = "#/pipelines";
      } }, "Delete"));
  }

  main.replaceChildren(
    el("p", { class: "crumbs" }, el("a", { href: "#/pipelines" }, "Pipelines"), " / ", el("code", {}, id)),
    el("div", { class: "heading" }, title, actions),
    errorBox,
    el("div", { class: "stats" }, lag.node, rate.node, latencyStat.node, slotStat.node, stored.node, positions.node, transport.node),
    el("section", { class: "panel" },
      el("h2", {}, "Last 15 minutes"),
      el("p", { class: "muted" }, "Sampled every second while this page is open; the time axis grows to 15 minutes."),
      el("div", { class: "charts" }, charts.lagBytes, charts.lagSeconds, charts.rate)),
    el("section", { class: "panel" }, el("h2", {}, "Snapshot"), snapshotBox),
    backfills.node,
    schemas.node,
    el("section", { class: "panel", "aria-labelledby": "sinks-heading" }, el("h2", { id: "sinks-heading" }, "Sinks"), sinksBox,
      el("div", { class: "actions" }, addSink), sinkEditorBox),
    el("section", { class: "panel", "aria-labelledby": "consumers-heading" }, el("h2", { id: "consumers-heading" }, "Consumers"), consumersBox),
    tail.node,
    el("section", { class: "panel" }, el("h2", {}, "Configuration"), configuration, filtersBox));
  return view;
}
