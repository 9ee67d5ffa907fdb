// Small helpers to build the page and format the API's numbers for people.

export const $ = (selector, root = document) => root.querySelector(selector);

/** `el("a", {href: "#"}, "text", child)`: attributes starting with `on` are listeners. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, value);
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

export function notice(text) {
  const box = $("#notice");
  box.hidden = !text;
  box.textContent = text || "";
}

export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatCount(value) {
  return value === null || value === undefined ? "–" : Number(value).toLocaleString("en");
}

export function formatSeconds(value) {
  if (value === null || value === undefined) return "–";
  const seconds = Number(value);
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

export function formatMilliseconds(value) {
  return value === null || value === undefined ? "–" : `${Number(value).toFixed(1)} ms`;
}

/** States the pipeline is not running in (start is offered instead of stop). */
export const RESTING_STATES = ["created", "stopped", "finished", "failed"];

const STATE_SYMBOL = {
  created: "○", starting: "◔", snapshotting: "◑", streaming: "●", retrying: "↻",
  stopping: "◌", stopped: "■", finished: "✓", failed: "✕",
};

/** A state as a badge: a symbol and the word, so colour is never the only carrier. */
export function stateBadge(state) {
  return el("span", { class: `badge state-${state}`, "data-state": state },
    el("span", { "aria-hidden": "true" }, STATE_SYMBOL[state] || "?"), " ", state);
}

/** Marks each `[data-field]` of `form` named by a 422's errors; returns the errors no field took. */
export function showFieldErrors(form, errors) {
  clearFieldErrors(form);
  const unplaced = [];
  for (const { field, message } of errors) {
    // `filters.include_tables[2]` lands at the list's field, a nested field at its object's.
    const holder = [field, String(field).replace(/\[\d+\]$/, ""), String(field).split(/[.[]/)[0]]
      .map((name) => form.querySelector(`[data-field="${CSS.escape(name)}"]`)).find((found) => found);
    if (!holder) { unplaced.push(`${field} ${message}`); continue; }
    const input = holder.querySelector("input, select, textarea");
    const text = holder.querySelector(".field-error");
    text.textContent = holder.dataset.field === field ? message : `${field} ${message}`;
    text.hidden = false;
    if (input) input.setAttribute("aria-invalid", "true");
  }
  const first = form.querySelector("[aria-invalid=true]");
  if (first) first.focus();
  return unplaced;
}

export function clearFieldErrors(form) {
  for (const text of form.querySelectorAll(".field-error")) { text.hidden = true; text.textContent = ""; }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/**
 * A labelled form field with a place for its error. `name` is the API's
 * field name, so a 422 naming it lands next to it.
 */
export function field(label, name, input, hint) {
  const id = `f-${name.replace(/[^a-z0-9]+/gi, "-")}`;
  input.id = id;
  input.name = name;
  input.setAttribute("aria-describedby", `${id}-error${hint ? ` ${id}-hint` : ""}`);
  return el("div", { class: "field", "data-field": name },
    el("label", { for: id }, label),
    input,
    hint ? el("small", { id: `${id}-hint`, class: "hint" }, hint) : null,
    el("p", { id: `${id}-error`, class: "field-error", hidden: true }));
}

/** Copies text to the clipboard; falls back to selecting it where the Clipboard API is not allowed. */
export async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch (_) {
    const area = el("textarea", { class: "offscreen", readonly: true });
    area.value = text;
    document.body.append(area);
    area.select();
    const copied = document.execCommand("copy");
    area.remove();
    button.textContent = copied ? "Copied" : "Select and copy by hand";
  }
  setTimeout(() => { button.textContent = "Copy"; }, 1500);
}

/** Asks before deleting; resolves `{confirmed, dropSlot}`. The drop-slot box shows only when `offerDropSlot`. */
export function confirmDelete(title, text, offerDropSlot, hint = "") {
  const dialog = $("#confirm-dialog");
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  $("#confirm-option").hidden = !offerDropSlot;
  $("#confirm-drop-slot").checked = false;
  $("#confirm-hint").textContent = hint;
  $("#confirm-hint").hidden = !hint;
  dialog.returnValue = "cancel";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      resolve({ confirmed: dialog.returnValue === "confirm", dropSlot: $("#confirm-drop-slot").checked });
    }, { once: true });
    dialog.showModal();
    $("#confirm-dialog button[value=cancel]").focus();
  });
}
