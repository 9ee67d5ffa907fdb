// A pipeline's backfills, on its page: each one's tables, state and progress
// as a bar (GET …/backfills), and a form that asks the running pipeline to
// read a captured table's rows again (POST …/backfills). A backfill that can
// still be stopped has a Cancel button where the server offers cancelling
// (its backfills say `cancel_requested`).

import { APIError, api, path } from "./api.js";
import { clearFieldErrors, el, formatCount, notice, showFieldErrors } from "./dom.js";

const ENDED = ["done", "failed", "cancelled"];

function progressOf(backfill) {
  // Chunks are planned when it starts: a pending one has none yet.
  const max = Math.max(backfill.chunks_total, 1);
  const value = backfill.state === "done" ? max : Math.min(backfill.chunks_done, max);
  return { max, value };
}

function describe(backfill) {
  const parts = [`${backfill.state}: ${formatCount(backfill.rows)} rows, ${backfill.chunks_done}/${backfill.chunks_total} chunks`];
  if (backfill.trigger === "capture_started") parts.push("started by the table's capture");
  if (backfill.cancel_requested && !ENDED.includes(backfill.state)) parts.push("cancel requested");
  return parts.join("; ");
}

/** The panel; `refresh(tables)` redraws it, `tables` being the captured tables a backfill may name. */
export function backfillsPanel(pipelineID, onChange) {
  const box = el("div", { id: "backfills-box" });
  const select = el("select", { id: "backfill-table", name: "tables" });
  const result = el("p", { role: "status", class: "muted", id: "backfill-result" });
  const form = el("form", { class: "backfill-form toolbar", novalidate: true },
    el("label", { for: "backfill-table" }, "Table"),
    el("span", { "data-field": "tables" }, select),
    el("button", { type: "submit", id: "request-backfill" }, "Backfill"),
    result);
  const node = el("section", { class: "panel", "aria-labelledby": "backfills-heading" },
    el("h2", { id: "backfills-heading" }, "Backfills"),
    el("p", { class: "muted" }, "Reads a table's rows again as r events while streaming goes on (the pipeline must run)."),
    box, form);
  let shown = null;
  let shownTables = null;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    result.textContent = "";
    if (!select.value) return;
    try {
      const backfill = await api("POST", `${path.pipeline(pipelineID)}/backfills`, { tables: [select.value] });
      result.textContent = `Backfill ${backfill.id} asked for: it starts at the pipeline's next marker.`;
      onChange();
    } catch (failure) {
      const unplaced = failure instanceof APIError ? showFieldErrors(form, failure.fieldErrors) : [];
      if (!(failure instanceof APIError) || failure.fieldErrors.length === 0 || unplaced.length > 0) {
        result.textContent = unplaced.length > 0 ? unplaced.join("; ") : failure.message;
      }
    }
  });

  async function cancel(backfill) {
    try {
      await api("DELETE", `${path.pipeline(pipelineID)}/backfills/${encodeURIComponent(backfill.id)}`);
      onChange();
    } catch (failure) {
      notice(failure.message);
    }
  }

  function row(backfill) {
    const { max, value } = progressOf(backfill);
    const label = backfill.tables.join(", ");
    const cancellable = "cancel_requested" in backfill && !backfill.cancel_requested && !ENDED.includes(backfill.state);
    return el("li", { "data-backfill": backfill.id, "data-state": backfill.state },
      el("span", { class: "name" }, el("code", {}, label)),
      el("progress", { max, value, "aria-label": `backfill ${backfill.id} of ${label}` }),
      el("span", { class: "detail" }, describe(backfill),
        backfill.error ? el("span", { class: "error-line" }, backfill.error) : null,
        cancellable ? el("button", { type: "button", class: "small", "data-cancel": backfill.id, onclick: () => cancel(backfill) }, "Cancel") : null));
  }

  return {
    node,
    async refresh(tables) {
      const tablesText = JSON.stringify(tables);
      if (tablesText !== shownTables) {
        shownTables = tablesText;
        const chosen = select.value;
        select.replaceChildren(...(tables.length > 0 ? tables : [""]).map((table) =>
          el("option", { value: table }, table || "no captured table yet")));
        if (tables.includes(chosen)) select.value = chosen;
      }
      const answer = await api("GET", `${path.pipeline(pipelineID)}/backfills`);
      const text = JSON.stringify(answer.backfills);
      if (text === shown) return;
      shown = text;
      box.replaceChildren(answer.backfills.length === 0
        ? el("p", { class: "muted" }, "No backfills yet.")
        : el("ul", { class: "progress-list", id: "backfills" }, answer.backfills.slice().reverse().map(row)));
    },
  };
}
