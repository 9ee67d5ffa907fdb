// Calls to the REST API of openapi.yaml, with the bearer token when the
// server needs one.
//
// The token is asked for once, kept in sessionStorage (gone when the tab
// closes), and asked for again when the server answers 401. Every write
// carries `Content-Type: application/json`, bodyless ones too: the server
// refuses a tokenless cross-site write without it, and this page is
// same-origin so the header costs nothing.

const TOKEN_KEY = "popsink-token";

/** A non-2xx answer; `problem` is the RFC 9457 body when there is one. */
export class APIError extends Error {
  constructor(status, problem, fallback) {
    super((problem && (problem.detail || problem.title)) || fallback);
    this.status = status;
    this.problem = problem;
  }

  /** `[{field, message}]` of a 422. */
  get fieldErrors() {
    return (this.problem && Array.isArray(this.problem.errors)) ? this.problem.errors : [];
  }
}

export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  tokenChanged();
}

let prompt = null;

/** Opens the token dialog (once, however many requests are waiting) and resolves when a token is given. */
function askForToken(refused) {
  if (prompt) return prompt;
  const dialog = document.querySelector("#token-dialog");
  const input = document.querySelector("#token-input");
  document.querySelector("#token-reason").textContent = refused
    ? "The server refused the token: enter the current one."
    : "This server needs an API token.";
  input.value = "";
  prompt = new Promise((resolve) => {
    const form = document.querySelector("#token-form");
    const submitted = (event) => {
      event.preventDefault();
      const token = input.value.trim();
      if (!token) return;
      sessionStorage.setItem(TOKEN_KEY, token);
      form.removeEventListener("submit", submitted);
      dialog.close();
      prompt = null;
      tokenChanged();
      resolve();
    };
    form.addEventListener("submit", submitted);
  });
  // Nothing works without the token, so Escape does not dismiss the prompt.
  dialog.oncancel = (event) => event.preventDefault();
  dialog.showModal();
  input.focus();
  return prompt;
}

function tokenChanged() {
  document.querySelector("#token-forget").hidden = !storedToken();
}

/** fetch() with the token; a 401 asks for the token and tries again. */
export async function authorizedFetch(path, init = {}) {
  for (;;) {
    const token = storedToken();
    const headers = { ...(init.headers || {}) };
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(path, { ...init, headers, credentials: "same-origin" });
    if (response.status !== 401) return response;
    await response.body?.cancel();
    if (init.signal && init.signal.aborted) return response;
    await askForToken(Boolean(token));
  }
}

/** One API call: the parsed JSON answer, `null` for 204; throws APIError otherwise. */
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["Content-Type"] = "application/json";
  const response = await authorizedFetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store",
  });
  const parsed = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new APIError(response.status, parsed, `${method} ${path} answered ${response.status}`);
  return parsed;
}

export const path = {
  sources: () => "/v1/sources",
  source: (id) => `/v1/sources/${encodeURIComponent(id)}`,
  pipelines: () => "/v1/pipelines",
  pipeline: (id) => `/v1/pipelines/${encodeURIComponent(id)}`,
};

tokenChanged();
