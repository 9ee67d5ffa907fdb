// Adding, editing and removing a pipeline's sinks. Sinks live on the
// pipeline resource, so every change is a PUT of the whole pipeline
// (`PUT /v1/pipelines/{id}`) with the sinks replaced; a running pipeline
// restarts with them. Secrets are write-only: the API says only whether one
// is stored (`has_secret`, `secret_properties`), and a sink sent without its
// secret keeps the stored one, so the form offers to replace it, never to show it.

import { APIError, api, path } from "./api.js";
import { clearFieldErrors, confirmDelete, el, field, showFieldErrors } from "./dom.js";
import { renderCheckList } from "./sources.js";

const TYPES = ["webhook", "kafka", "jetstream"];

/** A sink as returned, made fit to send back: the read-only members dropped. */
function sendable(sink) {
  const { has_secret: _hasSecret, secret_properties: _secretProperties, ...rest } = sink;
  return rest;
}

/**
 * The pipeline as a PUT body with `sinks` in place of its own. A PUT replaces
 * the whole configuration (left out is reset to its default), so every
 * setting is sent back as it came, only the read-only members dropped
 * (`publication_mode` among them) and `desired_state` left out (it then stays as it is).
 */
export function pipelineBody(pipeline, sinks) {
  const {
    id: _id, state: _state, created_at: _created, updated_at: _updated, desired_state: _desired,
    publication_mode: _mode, ...settings
  } = pipeline;
  return { ...settings, sinks };
}

function parseProperties(text) {
  const properties = {};
  for (const line of text.split("\n").map((item) => item.trim()).filter(Boolean)) {
    const equals = line.indexOf("=");
    if (equals > 0) properties[line.slice(0, equals).trim()] = line.slice(equals + 1).trim();
    else properties[line] = "";
  }
  return properties;
}

/**
 * The form for sink number `index` of `pipeline` (a new one when `index`
 * equals the sink count); `onSaved(pipeline)` after the PUT, `onClose()` on cancel.
 */
export function sinkForm(pipeline, index, onSaved, onClose) {
  const existing = pipeline.sinks[index] || null;
  const prefix = `sinks[${index}]`;
  const input = (name, attributes = {}) => el("input", { type: "text", autocomplete: "off", ...attributes });
  const name = input("name", { value: existing ? existing.name : "", required: true });
  const type = el("select", {}, TYPES.map((value) => el("option", { value }, value)));
  type.value = existing ? existing.type : "webhook";
  if (existing) type.disabled = true; // another type is another sink: remove this one and add that
  const batch = input("batch", { type: "number", min: "1", max: "10000", value: existing ? String(existing.batch_size) : "500" });
  const confirm = el("select", {}, el("option", { value: "stored" }, "stored: on storage"), el("option", { value: "delivered" }, "delivered: once the target has it"));
  confirm.value = existing ? existing.confirm : "stored";

  const url = input("url", { value: existing && existing.url ? existing.url : "", placeholder: "http://127.0.0.1:9000/events" });
  const secret = el("input", { type: "password", autocomplete: "new-password" });
  const timeout = input("timeout", { type: "number", min: "0", step: "any", value: existing && existing.timeout_seconds ? String(existing.timeout_seconds) : "" });
  const bootstrap = input("bootstrap", { value: existing && existing.bootstrap_servers ? existing.bootstrap_servers : "" });
  const topic = input("topic", { value: existing && existing.topic ? existing.topic : "" });
  const properties = el("textarea", { rows: "3" });
  properties.value = existing && existing.properties ? Object.entries(existing.properties).map(([key, value]) => `${key}=${value}`).join("\n") : "";
  const servers = input("servers", { value: existing && existing.servers ? existing.servers.join(", ") : "" });
  const stream = input("stream", { value: existing && existing.stream ? existing.stream : "" });
  const subject = input("subject", { value: existing && existing.subject ? existing.subject : "" });

  const secretHint = existing && existing.has_secret
    ? "A secret is stored (never shown). Leave empty to keep it; type a new one to replace it."
    : "The HMAC-SHA-256 signing key, at least 16 characters.";
  const secretProperties = existing && existing.secret_properties && existing.secret_properties.length > 0
    ? `Stored write-only: ${existing.secret_properties.join(", ")} (kept unless given again). `
    : "";
  const groups = {
    webhook: el("div", { class: "grid" },
      field("URL", `${prefix}.url`, url),
      field("Signing secret", `${prefix}.secret`, secret, secretHint),
      field("Timeout (seconds)", `${prefix}.timeout_seconds`, timeout, "Empty: 10 s.")),
    kafka: el("div", { class: "grid" },
      field("Bootstrap servers", `${prefix}.bootstrap_servers`, bootstrap, "host:port,host:port"),
      field("Topic", `${prefix}.topic`, topic, "Empty: popsink.{pipeline}.{schema}.{table}"),
      field("Properties", `${prefix}.properties`, properties, `${secretProperties}One name=value a line, passed to librdkafka.`)),
    jetstream: el("div", { class: "grid" },
      field("Servers", `${prefix}.servers`, servers, "nats://host:4222, separated by commas"),
      field("Stream", `${prefix}.stream`, stream, "Empty: POPSINK"),
      field("Subject", `${prefix}.subject`, subject, "Empty: popsink.{pipeline}.{schema}.{table}")),
  };
  const showType = () => { for (const [key, group] of Object.entries(groups)) group.hidden = key !== type.value; };
  type.addEventListener("change", showType);
  showType();

  function sink() {
    const body = { name: name.value.trim(), type: type.value, batch_size: Number(batch.value), confirm: confirm.value };
    if (type.value === "webhook") {
      body.url = url.value.trim();
      if (secret.value) body.secret = secret.value;
      if (timeout.value) body.timeout_seconds = Number(timeout.value);
      if (existing && existing.ca_file) body.ca_file = existing.ca_file;
    } else if (type.value === "kafka") {
      body.bootstrap_servers = bootstrap.value.trim();
      if (topic.value.trim()) body.topic = topic.value.trim();
      body.properties = parseProperties(properties.value);
      if (existing && existing.delivery_timeout_seconds) body.delivery_timeout_seconds = existing.delivery_timeout_seconds;
    } else {
      body.servers = servers.value.split(",").map((item) => item.trim()).filter(Boolean);
      if (stream.value.trim()) body.stream = stream.value.trim();
      if (subject.value.trim()) body.subject = subject.value.trim();
    }
    // Settings this form has no field for are kept as they were.
    return existing ? { ...sendable(existing), ...body } : body;
  }

  const result = el("p", { role: "status", class: "muted" });
  const cancel = el("button", { type: "button", onclick: () => onClose() }, "Cancel");
  const form = el("form", { class: "sink-editor", id: "sink-form", novalidate: true },
    el("h3", {}, existing ? `Edit sink ${existing.name}` : "Add a sink"),
    el("div", { class: "grid" },
      field("Name", `${prefix}.name`, name, "Letters, digits, _ and -; unique in the pipeline."),
      field("Type", `${prefix}.type`, type),
      field("Batch size", `${prefix}.batch_size`, batch),
      field("Confirm to Postgres", `${prefix}.confirm`, confirm)),
    ...Object.values(groups),
    result,
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary", id: "save-sink" }, "Save sink"), cancel));
  // A rule over a whole entry comes as `sinks[i]` "secret must be …": it goes next to the field it names.
  const nearField = (item) => {
    const named = String(item.message).match(/^([a-z_]+) (.*)$/);
    const target = named && `${item.field}.${named[1]}`;
    return item.field === prefix && named && form.querySelector(`[data-field="${CSS.escape(target)}"]`)
      ? { field: target, message: named[2] } : item;
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    result.textContent = "";
    const sinks = pipeline.sinks.map(sendable);
    sinks[index] = sink();
    try {
      onSaved(await api("PUT", path.pipeline(pipeline.id), pipelineBody(pipeline, sinks)));
    } catch (failure) {
      const unplaced = failure instanceof APIError ? showFieldErrors(form, failure.fieldErrors.map(nearField)) : [];
      if (!(failure instanceof APIError) || failure.fieldErrors.length === 0 || unplaced.length > 0) {
        result.textContent = unplaced.length > 0 ? unplaced.join("; ") : failure.message;
      }
    }
  });
  return form;
}

/** Asks, then PUTs the pipeline without sink `index`; resolves the pipeline as saved, or null. */
export async function removeSink(pipeline, index) {
  const sink = pipeline.sinks[index];
  const answer = await confirmDelete(`Remove sink ${sink.name}?`,
    "Its events stay in the store; a running pipeline restarts without it.",
    false);
  if (!answer.confirmed) return null;
  const sinks = pipeline.sinks.map(sendable).filter((_, position) => position !== index);
  return api("PUT", path.pipeline(pipeline.id), pipelineBody(pipeline, sinks));
}

/** Runs sink `index`'s check (POST …/sinks/{name}/check: connects, delivers nothing) and renders its report. */
export async function checkSink(pipeline, index) {
  const name = pipeline.sinks[index].name;
  try {
    const report = await api("POST", `${path.pipeline(pipeline.id)}/sinks/${encodeURIComponent(name)}/check`);
    return el("div", { class: "check-report", id: "sink-check", "data-sink": name },
      el("p", { class: `verdict ${report.passed ? "pass" : "fail"}` },
        el("span", { "aria-hidden": "true" }, report.passed ? "✓ " : "✕ "),
        `Sink ${name} (${report.type}, ${report.target}): `, report.passed ? "ready to deliver" : "not ready"),
      renderCheckList(report.checks));
  } catch (failure) {
    return el("p", { class: "error-line", id: "sink-check" }, failure.message);
  }
}
