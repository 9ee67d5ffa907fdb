// Line charts of a pipeline's status over the last 15 minutes, drawn as SVG.
//
// The API has no history: the page samples the status while it is open and
// keeps the last WINDOW_MS per pipeline. The time axis spans what was sampled
// (at least a minute, at most WINDOW_MS), so a freshly opened page shows a
// line rather than a dot at the right edge.

const SVG = "http://www.w3.org/2000/svg";
export const WINDOW_MS = 15 * 60 * 1000;
const MIN_SPAN_MS = 60 * 1000;
const HEIGHT = 150;
const PAD = { left: 8, right: 8, top: 22, bottom: 18 };

const history = new Map();

/** Records one status of pipeline `id`; events per second comes from the change of `events_stored`. */
export function recordSample(id, status, at = Date.now()) {
  const samples = history.get(id) || [];
  const previous = samples[samples.length - 1];
  let rate = null;
  if (previous && at > previous.at && status.events_stored >= previous.events) {
    rate = ((status.events_stored - previous.events) * 1000) / (at - previous.at);
  }
  samples.push({ at, lagBytes: status.lag_bytes, lagSeconds: status.lag_seconds, events: status.events_stored, rate });
  while (samples.length > 0 && samples[0].at < at - WINDOW_MS) samples.shift();
  history.set(id, samples);
}

export function samplesOf(id) {
  return history.get(id) || [];
}

export function forgetSamples(id) {
  history.delete(id);
}

function spanText(ms) {
  return ms >= 90 * 1000 ? `${Math.round(ms / 60000)} min` : `${Math.round(ms / 1000)} s`;
}

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Draws `samples` (`{at, value}`, value null for a gap) into `figure`'s SVG,
 * the last WINDOW_MS up to `now`; `format` labels the scale and the latest value.
 */
export function drawChart(figure, title, samples, format, now = Date.now()) {
  // Drawn in the figure's own pixels, so the labels keep their size at every width.
  const width = Math.max(figure.clientWidth, 240);
  const points = samples.filter((sample) => sample.value !== null && sample.value !== undefined);
  const span = Math.min(WINDOW_MS, Math.max(MIN_SPAN_MS, points.length > 0 ? now - points[0].at : 0));
  const top = Math.max(...points.map((sample) => sample.value), 0);
  const scale = top > 0 ? top * 1.1 : 1;
  const innerWidth = width - PAD.left - PAD.right;
  const innerHeight = HEIGHT - PAD.top - PAD.bottom;
  const x = (at) => PAD.left + innerWidth * (1 - (now - at) / span);
  const y = (value) => PAD.top + innerHeight * (1 - value / scale);
  const latest = points.length > 0 ? format(points[points.length - 1].value) : "no sample yet";

  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${HEIGHT}`, role: "img", class: "chart",
    "aria-label": `${title}: ${latest} now, at most ${format(top)} in the last ${spanText(span)}`,
  });
  chart.append(svg("rect", { x: PAD.left, y: PAD.top, width: innerWidth, height: innerHeight, class: "plot" }));
  for (const fraction of [0.25, 0.5, 0.75]) {
    const at = PAD.top + innerHeight * fraction;
    chart.append(svg("line", { x1: PAD.left, x2: width - PAD.right, y1: at, y2: at, class: "grid" }));
  }
  chart.append(svg("text", { x: PAD.left, y: 15, class: "label" }, `${title}: ${latest}`));
  chart.append(svg("text", { x: width - PAD.right, y: 15, class: "label end" }, `max ${format(top)}`));
  chart.append(svg("text", { x: PAD.left, y: HEIGHT - 4, class: "label" }, `${spanText(span)} ago`));
  chart.append(svg("text", { x: width - PAD.right, y: HEIGHT - 4, class: "label end" }, "now"));
  if (points.length > 1) {
    const line = points.map((sample) => `${x(sample.at).toFixed(1)},${y(sample.value).toFixed(1)}`).join(" ");
    chart.append(svg("polyline", { points: line, class: "line", "data-points": points.length }));
  } else if (points.length === 1) {
    chart.append(svg("circle", { cx: x(points[0].at), cy: y(points[0].value), r: 3, class: "dot" }));
  }
  figure.replaceChildren(chart);
}
