// Sources: the list, the add/edit form, and one source's page with its
// prerequisite check and its tables.

import { APIError, api, path } from "./api.js";
import { $, clearFieldErrors, confirmDelete, copyText, el, field, formatCount, notice, showFieldErrors } from "./dom.js";

const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

function connectionText(source) {
  return `${source.user}@${source.host}:${source.port}/${source.database}`;
}

export function sourcesView(main) {
  const body = el("tbody");
  main.replaceChildren(
    el("div", { class: "heading" },
      el("h1", {}, "Sources"),
      el("a", { class: "button primary", href: "#/sources/new" }, "Add source")),
    el("table", { class: "list", id: "sources" },
      el("thead", {}, el("tr", {}, ["Name", "Id", "Connection", "TLS", "Password", ""].map((name) => el("th", { scope: "col" }, name)))),
      body));
  return {
    interval: 5000,
    async refresh() {
      const sources = await api("GET", path.sources());
      body.replaceChildren();
      if (sources.length === 0) {
        body.append(el("tr", {}, el("td", { colspan: 6, class: "empty" }, "No sources yet. Add the Postgres database to capture from.")));
      }
      for (const source of sources) {
        body.append(el("tr", { "data-id": source.id },
          el("td", { "data-label": "Name" }, el("a", { href: `#/sources/${encodeURIComponent(source.id)}` }, source.name)),
          el("td", { "data-label": "Id" }, el("code", {}, source.id)),
          el("td", { "data-label": "Connection" }, connectionText(source)),
          el("td", { "data-label": "TLS" }, `sslmode ${source.sslmode}`),
          el("td", { "data-label": "Password" }, source.has_password ? "stored" : "none"),
          el("td", { class: "actions" },
            el("a", { class: "button", href: `#/sources/${encodeURIComponent(source.id)}` }, "Open"))));
      }
    },
  };
}

/** The add form (no `source`) or the edit form of `source`. */
function sourceForm(source, onSaved) {
  const value = (name, fallback = "") => (source && source[name] !== null && source[name] !== undefined ? source[name] : fallback);
  const input = (name, attributes = {}, fallback = "") => {
    const node = el("input", { type: "text", autocomplete: "off", spellcheck: "false", ...attributes });
    node.value = value(name, fallback);
    return node;
  };
  const sslmode = el("select", {}, SSL_MODES.map((mode) => el("option", { value: mode }, mode)));
  // The API's default: the server's certificate and host name are verified.
  sslmode.value = value("sslmode", "verify-full");
  const options = (source && source.options) || {};
  const connectTimeout = el("input", { type: "text", inputmode: "numeric", autocomplete: "off" });
  connectTimeout.value = options.connect_timeout || "";
  const applicationName = el("input", { type: "text", autocomplete: "off" });
  applicationName.value = options.application_name || "";
  const password = el("input", { type: "password", autocomplete: "new-password" });
  const removePassword = el("input", { type: "checkbox", id: "f-password-remove" });
  // Certificates and the key travel as PEM text, sealed like the password and never shown again:
  // the service reads no file path an API user names (unless its operator allows a directory).
  const secrets = [
    { name: "sslrootcert_pem", label: "Root certificate (PEM)", path: "sslrootcert",
      hint: "The CA that signed the server's certificate, for verify-ca and verify-full." },
    { name: "sslcert_pem", label: "Client certificate (PEM)", path: "sslcert",
      hint: "For servers that authenticate clients by certificate." },
    { name: "sslkey_pem", label: "Client key (PEM)", path: "sslkey", hint: "The client certificate's private key." },
    { name: "sslpassword", label: "Client key passphrase", hint: "If the client key is encrypted." },
  ].map((secret) => {
    const stored = Boolean(source && source[`has_${secret.name}`]);
    const input = secret.path
      ? el("textarea", { rows: "3", autocomplete: "off", spellcheck: "false", placeholder: "-----BEGIN …" })
      : el("input", { type: "password", autocomplete: "new-password" });
    const remove = el("input", { type: "checkbox", id: `f-${secret.name}-remove` });
    const hint = stored ? `Stored; leave empty to keep it. ${secret.hint}` : secret.hint;
    return { ...secret, input, remove, stored, hint };
  });
  const formError = el("p", { class: "form-error", role: "alert", hidden: true });

  const form = el("form", { class: "form", novalidate: true },
    el("input", { type: "text", name: "username", autocomplete: "username", hidden: true, value: value("user") }),
    el("div", { class: "grid" },
      field("Name", "name", input("name"), "A label for people."),
      field("Host", "host", input("host"), "Host name, IP address or a Unix socket directory."),
      field("Port", "port", input("port", { inputmode: "numeric" }, "5432")),
      field("Database", "database", input("database")),
      field("User", "user", input("user"), "A role with REPLICATION."),
      field("Password", "password", password, source
        ? (source.has_password ? "A password is stored; leave empty to keep it." : "None stored.")
        : "Stored encrypted, never shown again."),
      field("TLS (sslmode)", "sslmode", sslmode),
      ...secrets.map((secret) => field(secret.label, secret.name, secret.input, secret.hint)),
      field("Connect timeout (s)", "options.connect_timeout", connectTimeout),
      field("Application name", "options.application_name", applicationName)),
    source && source.has_password ? el("label", { class: "check" }, removePassword, " Remove the stored password") : null,
    ...secrets.filter((secret) => secret.stored)
      .map((secret) => el("label", { class: "check" }, secret.remove, ` Remove the stored ${secret.label.toLowerCase()}`)),
    formError,
    el("div", { class: "actions" },
      el("button", { type: "submit", class: "primary" }, source ? "Save source" : "Add source"),
      el("a", { class: "button", href: source ? `#/sources/${encodeURIComponent(source.id)}` : "#/sources" }, "Cancel")));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    formError.hidden = true;
    const text = (name) => form.elements[name].value.trim();
    const body = {
      name: text("name"), host: text("host"), database: text("database"), user: text("user"),
      sslmode: sslmode.value,
    };
    for (const secret of secrets) {
      if (secret.input.value.trim() !== "") {
        body[secret.name] = secret.path ? secret.input.value.trim() + "\n" : secret.input.value;
        // PEM replaces a path an API user set before: a source has one or the other.
        if (secret.path && source && source[secret.path] !== null) body[secret.path] = null;
      } else if (secret.remove.checked) {
        body[secret.name] = null;
      }
    }
    // Sent as typed, so the API's own rule (an integer from 1 to 65535) is the one the user sees.
    if (text("port") !== "") body.port = /^-?\d+$/.test(text("port")) ? Number(text("port")) : text("port");
    if (password.value !== "") body.password = password.value;
    else if (removePassword.checked) body.password = null;
    const libpq = {};
    if (connectTimeout.value.trim() !== "") libpq.connect_timeout = connectTimeout.value.trim();
    if (applicationName.value.trim() !== "") libpq.application_name = applicationName.value.trim();
    body.options = { ...options, ...libpq };
    if (connectTimeout.value.trim() === "") delete body.options.connect_timeout;
    if (applicationName.value.trim() === "") delete body.options.application_name;
    try {
      const saved = source
        ? await api("PUT", path.source(source.id), body)
        : await api("POST", path.sources(), body);
      onSaved(saved);
    } catch (failure) {
      const unplaced = failure instanceof APIError ? showFieldErrors(form, failure.fieldErrors) : [];
      if (!(failure instanceof APIError) || failure.fieldErrors.length === 0 || unplaced.length > 0) {
        formError.textContent = unplaced.length > 0 ? unplaced.join("; ") : failure.message;
        formError.hidden = false;
      }
    }
  });
  return form;
}

export function newSourceView(main) {
  main.replaceChildren(
    el("div", { class: "heading" }, el("h1", {}, "Add a source")),
    el("p", { class: "lead" }, "A Postgres database to capture from. The connection is tried by the check, after saving."),
    sourceForm(null, (saved) => { location.hash = `#/sources/${encodeURIComponent(saved.id)}`; }));
  $("#f-name").focus();
  return {};
}

export function editSourceView(main, id) {
  main.replaceChildren(el("h1", {}, "Edit source"));
  return {
    async refresh() {
      if (main.querySelector("form")) return;
      const source = await api("GET", path.source(id));
      main.append(sourceForm(source, (saved) => { location.hash = `#/sources/${encodeURIComponent(saved.id)}`; }));
    },
  };
}

const CHECK_SYMBOL = { pass: "✓", fail: "✕", warn: "!", skip: "–" };

function renderCheck(report) {
  return el("div", { class: "check-report", id: "check-report" },
    el("p", { class: `verdict ${report.passed ? "pass" : "fail"}` },
      el("span", { "aria-hidden": "true" }, report.passed ? "✓ " : "✕ "),
      report.passed ? "Every prerequisite is met" : "Some prerequisites are not met",
      ` (publication ${report.publication}${report.server_version ? `, PostgreSQL ${report.server_version}` : ""}).`),
    renderCheckList(report.checks));
}

/** A check report's results, each with its status, detail and remediation (a source's or a sink's). */
export function renderCheckList(checks) {
  return el("ul", { class: "checks" }, checks.map((check) => el("li", { class: `check-${check.status}`, "data-check": check.id },
      el("span", { class: `badge result-${check.status}` }, el("span", { "aria-hidden": "true" }, CHECK_SYMBOL[check.status] || "?"), " ", check.status),
      el("div", {},
        el("strong", {}, check.title),
        el("p", {}, check.detail),
        check.remediation ? el("div", { class: "remediation" },
          el("pre", {}, el("code", {}, check.remediation)),
          el("button", { type: "button", class: "copy", onclick: (event) => copyText(check.remediation, event.currentTarget) }, "Copy"))
          : null))));
}

function renderTables(tables) {
  if (tables.length === 0) return el("p", { class: "empty" }, "The database has no tables outside the system schemas.");
  return el("table", { class: "list", id: "source-tables" },
    el("thead", {}, el("tr", {}, ["Table", "Primary key", "Replica identity", "In publication", "Estimated rows"].map((name) =>
      el("th", { scope: "col", class: name === "Estimated rows" ? "number" : null }, name)))),
    el("tbody", {}, tables.map((sourceTable) => el("tr", {},
      el("td", { "data-label": "Table" }, el("code", {}, `${sourceTable.schema}.${sourceTable.table}`)),
      el("td", { "data-label": "Primary key" }, sourceTable.primary_key.length > 0 ? sourceTable.primary_key.join(", ") : "none"),
      // Only a published table is captured, so only there does a replica identity other than FULL matter.
      el("td", { "data-label": "Replica identity", class: sourceTable.in_publication && sourceTable.replica_identity !== "full" ? "warn" : "" },
        sourceTable.replica_identity, sourceTable.in_publication && sourceTable.replica_identity !== "full" ? " (needs FULL)" : ""),
      el("td", { "data-label": "In publication" }, sourceTable.in_publication ? "yes" : "no"),
      el("td", { "data-label": "Estimated rows", class: "number" }, formatCount(sourceTable.estimated_rows))))));
}

export function sourceView(main, id) {
  const details = el("dl", { class: "facts" });
  const publication = el("input", { type: "text", value: "popsink", autocomplete: "off", spellcheck: "false" });
  const checkOutput = el("div", { "aria-live": "polite" });
  const tablesOutput = el("div", { "aria-live": "polite" });
  const checkButton = el("button", { type: "button", class: "primary", id: "run-check" }, "Run check");
  const tablesButton = el("button", { type: "button", id: "load-tables" }, "Show tables");
  const title = el("h1", {}, "Source");

  checkButton.addEventListener("click", async () => {
    checkButton.disabled = true;
    checkOutput.replaceChildren(el("p", { class: "muted" }, "Connecting and checking…"));
    try {
      const report = await api("POST", `${path.source(id)}/check?publication=${encodeURIComponent(publication.value.trim() || "popsink")}`);
      checkOutput.replaceChildren(renderCheck(report));
    } catch (failure) {
      checkOutput.replaceChildren(el("p", { class: "form-error" }, failure.message));
    } finally {
      checkButton.disabled = false;
    }
  });
  tablesButton.addEventListener("click", async () => {
    tablesOutput.replaceChildren(el("p", { class: "muted" }, "Reading the catalog…"));
    try {
      const tables = await api("GET", `${path.source(id)}/tables?publication=${encodeURIComponent(publication.value.trim() || "popsink")}`);
      tablesOutput.replaceChildren(renderTables(tables));
    } catch (failure) {
      tablesOutput.replaceChildren(el("p", { class: "form-error" }, failure.message));
    }
  });
  const deleteButton = el("button", { type: "button", class: "danger" }, "Delete");
  deleteButton.addEventListener("click", async () => {
    const answer = await confirmDelete(`Delete source ${id}?`, "Pipelines that use it must be deleted first.", false);
    if (!answer.confirmed) return;
    try {
      await api("DELETE", path.source(id));
      location.hash = "#/sources";
    } catch (failure) {
      notice(failure.message);
    }
  });

  main.replaceChildren(
    el("p", { class: "crumbs" }, el("a", { href: "#/sources" }, "Sources"), " / ", el("code", {}, id)),
    el("div", { class: "heading" }, title,
      el("div", { class: "actions" },
        el("a", { class: "button", href: `#/sources/${encodeURIComponent(id)}/edit` }, "Edit"),
        el("a", { class: "button", href: `#/pipelines/new?source=${encodeURIComponent(id)}` }, "New pipeline"),
        deleteButton)),
    details,
    el("section", { class: "panel" },
      el("h2", {}, "Prerequisites"),
      el("div", { class: "inline" },
        el("label", { for: "check-publication" }, "Publication"),
        Object.assign(publication, { id: "check-publication" }),
        checkButton, tablesButton),
      checkOutput),
    el("section", { class: "panel" }, el("h2", {}, "Tables"), tablesOutput));

  return {
    async refresh() {
      if (details.childElementCount > 0) return;
      const source = await api("GET", path.source(id));
      title.textContent = source.name;
      const fact = (name, value) => [el("dt", {}, name), el("dd", {}, value)];
      details.replaceChildren(
        ...fact("Id", el("code", {}, source.id)),
        ...fact("Connection", connectionText(source)),
        ...fact("TLS", `sslmode ${source.sslmode}`),
        ...fact("Password", source.has_password ? "stored" : "none"),
        ...fact("TLS material", [["has_sslrootcert_pem", "root certificate"], ["has_sslcert_pem", "client certificate"],
          ["has_sslkey_pem", "client key"], ["has_sslpassword", "key passphrase"]]
          .filter(([flag]) => source[flag]).map(([, what]) => what).join(", ") || "none"),
        ...fact("Updated", source.updated_at));
    },
  };
}
