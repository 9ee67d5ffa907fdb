// The four filter lists of a pipeline as form fields, with a live preview of
// the tables they select among those the source's publication sends. Used
// by the create form and by a pipeline's page (PUT …/filters).

import { api, path } from "./api.js";
import { el, field } from "./dom.js";
import { filterSelects, patternList } from "./filters.js";

const LISTS = [
  ["include_schemas", "Include schemas", "Empty: every schema."],
  ["exclude_schemas", "Exclude schemas", null],
  ["include_tables", "Include tables", "Globs: * any run, ? one character; separate with commas. With a dot a table pattern matches schema.table."],
  ["exclude_tables", "Exclude tables", null],
];

/** The tables the filters select, of those the source's publication sends. */
function renderPreview(output, tables, filters, publication) {
  const published = tables.filter((sourceTable) => sourceTable.in_publication);
  const chosen = published.filter((sourceTable) => filterSelects(filters, sourceTable.schema, sourceTable.table));
  const summary = published.length === 0
    ? `Publication ${publication} publishes none of the source's ${tables.length} tables: create it (CREATE PUBLICATION ${publication} FOR TABLE …) or pick another.`
    : `${chosen.length} of the ${published.length} tables publication ${publication} sends will be captured.`;
  output.replaceChildren(
    el("p", { class: "preview-summary" }, summary),
    el("ul", { class: "preview" }, tables.map((sourceTable) => {
      const name = `${sourceTable.schema}.${sourceTable.table}`;
      const selected = sourceTable.in_publication && filterSelects(filters, sourceTable.schema, sourceTable.table);
      const why = !sourceTable.in_publication ? "not in the publication" : selected ? "captured" : "filtered out";
      return el("li", { class: selected ? "selected" : "skipped", "data-table": name, "data-selected": String(selected) },
        el("span", { "aria-hidden": "true" }, selected ? "✓ " : "✕ "), el("code", {}, name), ` ${why}`);
    })));
}

/**
 * `prefix` keeps the ids of two editors apart; `initial` fills the fields.
 * Returns `{fields, preview, filters(), load(sourceID, publication)}`.
 */
export function filterEditor(prefix, initial = {}) {
  const inputs = {};
  const fields = LISTS.map(([name, label, hint]) => {
    const input = el("input", { type: "text", autocomplete: "off", spellcheck: "false" });
    input.value = (initial[name] || []).join(", ");
    inputs[name] = input;
    const holder = field(label, `filters.${name}`, input, hint);
    // Field ids stay unique when two editors share a page; errors still find `data-field`.
    for (const node of holder.querySelectorAll("[id]")) node.id = `${prefix}-${node.id}`;
    holder.querySelector("label").htmlFor = input.id;
    input.setAttribute("aria-describedby", Array.from(holder.querySelectorAll(".hint, .field-error"), (node) => node.id).join(" "));
    return holder;
  });
  const preview = el("div", { class: "preview-box", id: `${prefix}-preview`, "aria-live": "polite" },
    el("p", { class: "muted" }, "Pick a source to see its tables."));
  let tables = null;
  let publication = "popsink";
  let ticket = 0;

  // What the editor has no field for (row_filters) is sent back as it came: a PUT replaces
  // the whole filters object, and saving the lists must not drop a pipeline's row filters.
  const kept = Object.fromEntries(Object.entries(initial).filter(([name]) => !(name in inputs)));
  const filters = () => ({
    ...kept,
    ...Object.fromEntries(Object.entries(inputs).map(([name, input]) => [name, patternList(input.value)])),
  });
  const update = () => { if (tables) renderPreview(preview, tables, filters(), publication); };
  for (const input of Object.values(inputs)) input.addEventListener("input", update);

  return {
    fields,
    preview,
    filters,
    async load(sourceID, publicationName) {
      const mine = ++ticket;
      tables = null;
      publication = publicationName || "popsink";
      if (!sourceID) return;
      preview.replaceChildren(el("p", { class: "muted" }, "Reading the source's tables…"));
      try {
        const found = await api("GET", `${path.source(sourceID)}/tables?publication=${encodeURIComponent(publication)}`);
        if (mine !== ticket) return;
        tables = found;
        update();
      } catch (failure) {
        if (mine === ticket) preview.replaceChildren(el("p", { class: "form-error" }, `No preview: ${failure.message}`));
      }
    },
  };
}
