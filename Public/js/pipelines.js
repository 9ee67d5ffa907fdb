// Pipelines: the list with state badges and actions, the create form with
// a preview of the tables its filters select, and the lifecycle commands.

import { APIError, api, path } from "./api.js";
import { forgetSamples, recordSample } from "./chart.js";
import {
  RESTING_STATES, clearFieldErrors, confirmDelete, el, field, formatBytes, formatCount, formatSeconds,
  notice, showFieldErrors, stateBadge,
} from "./dom.js";
import { filterEditor } from "./filter-editor.js";
import { holdable } from "./holdable.js";

/**
 * Whether the pipeline loads a snapshot before streaming: `enabled` of its
 * snapshot settings where the API has it, else the older `initial_load` field.
 */
export function snapshotEnabled(pipeline) {
  const settings = pipeline.snapshot || {};
  if (typeof settings.enabled === "boolean") return settings.enabled;
  return pipeline.initial_load !== false;
}

// How this server takes "no snapshot" (`nested` in the snapshot settings, or the older `flat` field),
// learnt from the pipelines it returns.
let snapshotShape = null;
function learnSnapshotShape(pipelines) {
  for (const pipeline of pipelines) {
    const settings = pipeline.snapshot || {};
    if (typeof settings.enabled === "boolean") snapshotShape = "nested";
    else if (typeof pipeline.initial_load === "boolean") snapshotShape = "flat";
  }
}

export async function command(id, verb) {
  try {
    return await api("POST", `${path.pipeline(id)}/${verb}`);
  } catch (failure) {
    notice(failure.message);
    return null;
  }
}

/**
 * Asks, then deletes; resolves true when the pipeline is gone. `view`'s refresh
 * is held from the confirmation on (nothing may ask for the pipeline as it goes)
 * and stays held after a delete: the caller releases it or leaves the view.
 * `beforeDelete` runs once it is held (the pipeline page ends its event stream there).
 */
export async function deletePipeline(pipeline, view, beforeDelete = () => {}) {
  const answer = await confirmDelete(`Delete pipeline ${pipeline.id}?`,
    "Its configuration and its stored events are deleted; a running pipeline is stopped first.", true,
    `Without dropping it, slot ${pipeline.slot_name} keeps holding WAL on the source until it is dropped by hand.`);
  if (!answer.confirmed) return false;
  await view.hold();
  beforeDelete();
  try {
    await api("DELETE", `${path.pipeline(pipeline.id)}${answer.dropSlot ? "?drop_slot=true" : ""}`);
    forgetSamples(pipeline.id);
    return true;
  } catch (failure) {
    view.release();
    notice(failure.message);
    return false;
  }
}

export function pipelinesView(main) {
  const body = el("tbody");
  main.replaceChildren(
    el("div", { class: "heading" },
      el("h1", {}, "Pipelines"),
      el("a", { class: "button primary", href: "#/pipelines/new" }, "New pipeline")),
    el("table", { class: "list", id: "pipelines" },
      el("thead", {}, el("tr", {}, ["Pipeline", "Source", "State", "Lag", "Events stored", ""].map((name) =>
        el("th", { scope: "col", class: name === "Events stored" ? "number" : null }, name)))),
      body));

  const view = holdable({
    interval: 2000,
    async refresh() {
      const [pipelines, sources] = await Promise.all([api("GET", path.pipelines()), api("GET", path.sources())]);
      learnSnapshotShape(pipelines);
      const sourceNames = new Map(sources.map((source) => [source.id, source.name]));
      const statuses = new Map();
      await Promise.all(pipelines.map(async (pipeline) => {
        try {
          const status = await api("GET", `${path.pipeline(pipeline.id)}/status`);
          statuses.set(pipeline.id, status);
          recordSample(pipeline.id, status);
        } catch (_) { /* the row falls back to the pipeline's own state */ }
      }));
      body.replaceChildren();
      if (pipelines.length === 0) {
        body.append(el("tr", {}, el("td", { colspan: 6, class: "empty" }, "No pipelines yet. Create one to start capturing.")));
      }
      for (const pipeline of pipelines) {
        const status = statuses.get(pipeline.id);
        const state = (status && status.state) || pipeline.state;
        const resting = RESTING_STATES.includes(state);
        const link = `#/pipelines/${encodeURIComponent(pipeline.id)}`;
        body.append(el("tr", { "data-id": pipeline.id },
          el("td", { "data-label": "Pipeline" }, el("a", { href: link }, pipeline.id)),
          el("td", { "data-label": "Source" },
            el("a", { href: `#/sources/${encodeURIComponent(pipeline.source_id)}` }, sourceNames.get(pipeline.source_id) || pipeline.source_id)),
          el("td", { "data-label": "State" }, stateBadge(state),
            status && status.last_error ? el("small", { class: "error-line" }, status.last_error.message) : null),
          el("td", { "data-label": "Lag" }, status ? `${formatBytes(status.lag_bytes)} · ${formatSeconds(status.lag_seconds)}` : "–"),
          el("td", { "data-label": "Events stored", class: "number" }, status ? formatCount(status.events_stored) : "–"),
          el("td", { class: "actions" },
            el("a", { class: "button", href: link }, "Open"),
            resting
              ? el("button", { type: "button", onclick: async () => { await command(pipeline.id, "start"); view.refresh().catch((failure) => notice(failure.message)); } }, "Start")
              : el("button", { type: "button", onclick: async () => { await command(pipeline.id, "stop"); view.refresh().catch((failure) => notice(failure.message)); } }, "Stop"),
            el("button", { type: "button", class: "danger", onclick: async () => {
              if (!(await deletePipeline(pipeline, view))) return;
              view.release();
              view.refresh().catch((failure) => notice(failure.message));
            } }, "Delete"))));
      }
    },
  });
  return view;
}

export function newPipelineView(main, _id, query) {
  const sourceSelect = el("select", {});
  const id = el("input", { type: "text", autocomplete: "off", spellcheck: "false", pattern: "[A-Za-z0-9_-]{1,64}" });
  const publication = el("input", { type: "text", autocomplete: "off", spellcheck: "false" });
  publication.value = "popsink";
  const slotName = el("input", { type: "text", autocomplete: "off", spellcheck: "false" });
  const snapshotBox = el("input", { type: "checkbox", id: "f-snapshot", checked: true });
  const startNow = el("input", { type: "checkbox", id: "f-start", checked: true });
  const editor = filterEditor("new");
  const tuning = {
    workers: el("input", { type: "text", inputmode: "numeric", autocomplete: "off" }),
    chunk_pages: el("input", { type: "text", inputmode: "numeric", autocomplete: "off" }),
    rows_per_group: el("input", { type: "text", inputmode: "numeric", autocomplete: "off" }),
  };
  const formError = el("p", { class: "form-error", role: "alert", hidden: true });
  const loadTables = () => editor.load(sourceSelect.value, publication.value.trim() || "popsink");
  sourceSelect.addEventListener("change", loadTables);
  publication.addEventListener("change", loadTables);

  const form = el("form", { class: "form", novalidate: true },
    el("div", { class: "grid" },
      field("Source", "source_id", sourceSelect),
      field("Pipeline id", "id", id, "Letters, digits, _ and -; generated when empty."),
      field("Publication", "publication", publication),
      field("Slot name", "slot_name", slotName, "Default popsink_<id>."),
      editor.fields),
    el("div", { class: "field", "data-field": "snapshot" },
      el("label", { class: "check" }, snapshotBox, " Snapshot the selected tables before streaming"),
      el("p", { class: "field-error", hidden: true })),
    el("details", { class: "advanced" },
      el("summary", {}, "Snapshot tuning"),
      el("div", { class: "grid" },
        field("Workers", "snapshot.workers", tuning.workers, "Connections reading in parallel; default: the service's cores."),
        field("Pages per chunk", "snapshot.chunk_pages", tuning.chunk_pages, "8 KiB pages; default 4096 (32 MiB)."),
        field("Rows per commit", "snapshot.rows_per_group", tuning.rows_per_group, "Default 100000."))),
    el("label", { class: "check" }, startNow, " Start at once"),
    el("section", { class: "panel" }, el("h2", {}, "Tables selected"), editor.preview),
    formError,
    el("div", { class: "actions" },
      el("button", { type: "submit", class: "primary" }, "Create pipeline"),
      el("a", { class: "button", href: "#/pipelines" }, "Cancel")));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    formError.hidden = true;
    const body = { source_id: sourceSelect.value, filters: editor.filters(), desired_state: startNow.checked ? "running" : "stopped" };
    if (id.value.trim()) body.id = id.value.trim();
    if (publication.value.trim()) body.publication = publication.value.trim();
    if (slotName.value.trim()) body.slot_name = slotName.value.trim();
    // Numbers are sent as typed, so the API's bounds are the ones the user sees next to the field.
    const settings = {};
    for (const [name, input] of Object.entries(tuning)) {
      const text = input.value.trim();
      if (text !== "") settings[name] = /^\d+$/.test(text) ? Number(text) : text;
    }
    const create = (shape) => {
      const attempt = { ...body };
      if (Object.keys(settings).length > 0) attempt.snapshot = { ...settings };
      if (!snapshotBox.checked && shape === "nested") attempt.snapshot = { ...settings, enabled: false };
      if (!snapshotBox.checked && shape === "flat") attempt.initial_load = false;
      return api("POST", path.pipelines(), attempt);
    };
    try {
      let created;
      try {
        created = await create(snapshotShape || "nested");
      } catch (failure) {
        // A server from before the rename calls `enabled` in the snapshot settings unknown: say it the older way.
        const older = !snapshotBox.checked && !snapshotShape && failure instanceof APIError
          && failure.fieldErrors.some((problem) => problem.field === "snapshot.enabled");
        if (!older) throw failure;
        snapshotShape = "flat";
        created = await create(snapshotShape);
      }
      location.hash = `#/pipelines/${encodeURIComponent(created.id)}`;
    } catch (failure) {
      const unplaced = failure instanceof APIError ? showFieldErrors(form, failure.fieldErrors) : [];
      if (!(failure instanceof APIError) || failure.fieldErrors.length === 0 || unplaced.length > 0) {
        formError.textContent = unplaced.length > 0 ? unplaced.join("; ") : failure.message;
        formError.hidden = false;
      }
    }
  });

  main.replaceChildren(
    el("p", { class: "crumbs" }, el("a", { href: "#/pipelines" }, "Pipelines"), " / new"),
    el("h1", {}, "New pipeline"),
    form);

  return {
    async refresh() {
      if (sourceSelect.options.length > 0) return;
      const [sources, pipelines] = await Promise.all([api("GET", path.sources()), api("GET", path.pipelines())]);
      learnSnapshotShape(pipelines);
      if (sources.length === 0) {
        editor.preview.replaceChildren(el("p", {}, "There is no source yet: ", el("a", { href: "#/sources/new" }, "add one"), " first."));
      }
      sourceSelect.replaceChildren(...sources.map((source) => el("option", { value: source.id }, `${source.name} (${source.id})`)));
      const wanted = query.get("source");
      if (wanted && sources.some((source) => source.id === wanted)) sourceSelect.value = wanted;
      if (sources.length > 0) loadTables();
    },
  };
}
