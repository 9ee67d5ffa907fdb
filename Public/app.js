// The popsink-pg console: a single page over the REST API, routed by the
// URL's fragment so every view has an address that reload and back keep.
// No build step: the modules under js/ are loaded by the browser as they are.

import { forgetToken } from "./js/api.js";
import { $, notice } from "./js/dom.js";
import { pipelineView } from "./js/pipeline-page.js";
import { newPipelineView, pipelinesView } from "./js/pipelines.js";
import { editSourceView, newSourceView, sourceView, sourcesView } from "./js/sources.js";

const routes = [
  [/^\/pipelines\/?$/, pipelinesView],
  [/^\/pipelines\/new$/, newPipelineView],
  [/^\/pipelines\/([^/]+)$/, pipelineView],
  [/^\/sources\/?$/, sourcesView],
  [/^\/sources\/new$/, newSourceView],
  [/^\/sources\/([^/]+)\/edit$/, editSourceView],
  [/^\/sources\/([^/]+)$/, sourceView],
];

let current = null;
let timer = null;

function route(event) {
  const moved = event !== undefined;
  const hash = location.hash.replace(/^#/, "") || "/pipelines";
  const [pathPart, queryPart] = hash.split("?");
  let view = null;
  let id = null;
  for (const [pattern, make] of routes) {
    const match = pathPart.match(pattern);
    if (match) { view = make; id = match[1] ? decodeURIComponent(match[1]) : null; break; }
  }
  if (!view) { location.hash = "#/pipelines"; return; }

  if (current && current.dispose) current.dispose();
  lastFocus = null;
  clearTimeout(timer);
  notice("");
  const section = pathPart.split("/")[1];
  for (const link of document.querySelectorAll("nav a")) {
    if (link.dataset.section === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const main = $("#main");
  const made = view(main, id, new URLSearchParams(queryPart || ""));
  current = made;
  document.title = `${main.querySelector("h1")?.textContent || "popsink-pg"} · popsink-pg`;
  // After a navigation, keyboard focus starts at the new view, not at the link that led there.
  if (moved && !main.contains(document.activeElement)) main.focus({ preventScroll: true });
  tick(made);
}

// What last had keyboard focus in the view, so a refresh that redraws it (a
// list row, the actions of a changed state) can give focus to its twin. It is
// tracked as it moves, since focus can move while a refresh is in flight.
let lastFocus = null;
document.addEventListener("focusin", (event) => {
  const node = event.target;
  if (!$("#main").contains(node)) { lastFocus = null; return; }
  const row = node.closest("[data-id]");
  const scope = node.parentElement && node.parentElement.closest("[id]");
  lastFocus = {
    node, id: node.id, row: row ? row.dataset.id : null, tag: node.tagName, text: node.textContent,
    scope: scope && scope !== $("#main") ? scope.id : null,
  };
});

function restoreFocus() {
  const focused = lastFocus;
  if (!focused || focused.node.isConnected || (document.activeElement && document.activeElement !== document.body)) return;
  let twin = focused.id ? document.getElementById(focused.id) : null;
  if (!twin) {
    const scope = focused.row ? $(`#main [data-id="${CSS.escape(focused.row)}"]`) : $("#main");
    twin = scope && Array.from(scope.querySelectorAll(focused.tag)).find((node) => node.textContent === focused.text);
  }
  // A button that became another (Stop that is now Start): focus the first control where it was.
  if (!twin && focused.scope) twin = document.getElementById(focused.scope)?.querySelector("button, a[href], input, select");
  if (twin) twin.focus({ preventScroll: true });
}

/** Refreshes the view now and then every `interval` ms while it is the current one. */
async function tick(view) {
  if (view !== current || !view.refresh) return;
  try {
    await view.refresh();
    if (view === current) restoreFocus();
    if (view === current) notice("");
  } catch (failure) {
    if (view === current) notice(failure.message);
  }
  if (view === current && view.interval) timer = setTimeout(() => tick(view), view.interval);
}

$("#token-forget").addEventListener("click", () => {
  forgetToken();
  route();
});
window.addEventListener("hashchange", route);
route();
