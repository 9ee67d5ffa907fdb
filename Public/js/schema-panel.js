// A pipeline's schema history, on its page: every captured table with its
// newest version (GET …/schemas), and, opened, each version of the table
// with the LSN where it took effect and what changed against the one before
// (GET …/schemas/{schema}.{table}). Read from the store, so it answers
// whether or not the pipeline runs.

import { APIError, api, path } from "./api.js";
import { el } from "./dom.js";

/** What a version changed, in words: one item per kind of change. */
export function changeItems(change) {
  if (!change) return [el("li", {}, "first version")];
  const items = [];
  const names = (list) => list.map((name) => el("code", {}, name)).flatMap((node, index) => (index > 0 ? [", ", node] : [node]));
  if (change.added && change.added.length > 0) {
    items.push(el("li", { "data-change": "added" }, "added ", ...change.added
      .map((column) => el("code", {}, `${column.name} ${column.type}`)).flatMap((node, index) => (index > 0 ? [", ", node] : [node]))));
  }
  if (change.dropped && change.dropped.length > 0) items.push(el("li", { "data-change": "dropped" }, "dropped ", ...names(change.dropped)));
  for (const retyped of change.retyped || []) {
    items.push(el("li", { "data-change": "retyped" }, "retyped ", el("code", {}, retyped.column), `: ${retyped.from} → ${retyped.to}`));
  }
  for (const renamed of change.renamed || []) {
    items.push(el("li", { "data-change": "renamed" }, "renamed ", el("code", {}, renamed.from), " → ", el("code", {}, renamed.to)));
  }
  if (change.key_changed) {
    const key = (columns) => (columns && columns.length > 0 ? columns.join(", ") : "none");
    items.push(el("li", { "data-change": "key_changed" }, `key changed: (${key(change.key_changed.from)}) → (${key(change.key_changed.to)})`));
  }
  if (change.table_dropped) items.push(el("li", { "data-change": "table_dropped" }, "table dropped"));
  if (items.length === 0) items.push(el("li", {}, "no column change (a new version of the table's relation)"));
  return items;
}

function columnsText(columns) {
  return columns.map((column) => `${column.name} ${column.type}${column.key ? " (key)" : ""}`).join(", ");
}

function versionsTable(versions) {
  return el("table", { class: "list schema-versions" },
    el("thead", {}, el("tr", {}, ["Version", "LSN", "What changed", "Columns"].map((name) => el("th", { scope: "col" }, name)))),
    el("tbody", {}, versions.slice().reverse().map((version) => el("tr", { "data-version": version.version },
      el("td", { "data-label": "Version", class: "number" }, `v${version.version}`),
      el("td", { "data-label": "LSN" }, el("span", {}, el("code", {}, version.lsn), el("span", { class: "detail" }, ` commit ${version.commit_lsn}`))),
      el("td", { "data-label": "What changed" }, el("ul", { class: "changes" }, changeItems(version.change))),
      el("td", { "data-label": "Columns" }, columnsText(version.columns))))));
}

/** The panel; `refresh()` reloads the table list and the history of each opened table when its newest version moved. */
export function schemaPanel(pipelineID) {
  const list = el("div", { id: "schemas-box" }, el("p", { class: "muted" }, "Loading…"));
  const node = el("section", { class: "panel", "aria-labelledby": "schemas-heading" },
    el("h2", { id: "schemas-heading" }, "Schema history"), list);
  let shown = null;
  let tables = [];
  // The details element of each table, kept across redraws so an opened one stays open.
  const opened = new Map();

  async function loadHistory(qualified, body) {
    try {
      const history = await api("GET", `${path.pipeline(pipelineID)}/schemas/${encodeURIComponent(qualified)}`);
      body.replaceChildren(versionsTable(history.versions));
    } catch (failure) {
      body.replaceChildren(el("p", { class: "error-line" }, failure instanceof APIError ? failure.message : String(failure)));
    }
  }

  function tableEntry(latest) {
    const qualified = `${latest.schema}.${latest.table}`;
    const body = el("div", { class: "schema-history" });
    const details = el("details", { class: "schema-table", "data-table": qualified, "data-version": latest.version },
      el("summary", {}, el("code", {}, qualified), ` v${latest.version}`,
        el("span", { class: "detail" }, ` since ${latest.lsn}; ${latest.columns.length} columns`)),
      body);
    details.addEventListener("toggle", () => {
      if (details.open) loadHistory(qualified, body);
    });
    return details;
  }

  return {
    node,
    /** The captured tables as `schema.table`, as last read. */
    tables: () => tables,
    async refresh() {
      const answer = await api("GET", `${path.pipeline(pipelineID)}/schemas`);
      tables = answer.tables.map((latest) => `${latest.schema}.${latest.table}`);
      const text = JSON.stringify(answer.tables.map((latest) => [latest.schema, latest.table, latest.version]));
      if (text === shown) return;
      shown = text;
      if (answer.tables.length === 0) {
        list.replaceChildren(el("p", { class: "muted" }, "No table captured yet: versions appear with a table's first row or schema event."));
        return;
      }
      const entries = answer.tables.map((latest) => {
        const qualified = `${latest.schema}.${latest.table}`;
        const entry = tableEntry(latest);
        const before = opened.get(qualified);
        if (before && before.open) {
          entry.open = true;
        }
        opened.set(qualified, entry);
        return entry;
      });
      list.replaceChildren(...entries);
    },
  };
}
