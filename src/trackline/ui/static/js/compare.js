// @ts-check
/**
 * The comparison page: the differences-only switch of the table, and the charts drawn from
 * the page's data: parallel coordinates, scatter (any two params or metrics), contour (two
 * and a metric), box plots (a metric grouped by a param) and the runs' histories of a metric
 * (fetched from the metric page's JSON twin, downsampled by the server).
 */
import { getJSON, pageData } from "./common.js";
import { draw, historyTraces } from "./charts.js";

const data = pageData();
const runs = /** @type {{run_id: string, name: string}[]} */ (data.runs);
const names = runs.map((r) => r.name);

/** @type {Record<string, (string | number | null)[]>} */
const columns = {};
for (const row of data.params) columns[`params.${row.key}`] = row.values;
for (const row of data.metrics) columns[`metrics.${row.key}`] = row.values;
const numericParams = new Set(data.numeric_params.map((/** @type {string} */ k) => `params.${k}`));

/** The values of a column for every run, numbers where the column is numeric. @param {string} id */
function valuesOf(id) {
  const values = columns[id] || runs.map(() => null);
  if (id.startsWith("params.") && numericParams.has(id)) {
    return values.map((v) => (v === null ? null : Number(v)));
  }
  return values;
}

/** @param {string} id */
function label(id) {
  return id.slice(id.indexOf(".") + 1);
}

/** @param {string} id */
function selected(id) {
  const element = document.getElementById(id);
  return element instanceof HTMLSelectElement ? element.value : "";
}

// Table: show differences only.
const diffOnly = /** @type {HTMLInputElement | null} */ (document.getElementById("diff-only"));
diffOnly?.addEventListener("change", () => {
  document.getElementById("compare-table")?.classList.toggle("diff-only", diffOnly.checked);
});

// Axis pickers start on a sensible column: data-default is an option index (-1: the last).
for (const select of document.querySelectorAll("select[data-default]")) {
  if (!(select instanceof HTMLSelectElement) || !select.options.length) continue;
  const wanted = Number(select.dataset.default);
  const index = wanted < 0 ? select.options.length + wanted : wanted;
  select.selectedIndex = Math.max(0, Math.min(select.options.length - 1, index));
}

function parallel() {
  const picker = document.getElementById("parallel-picker");
  const chosen = Array.from(picker?.querySelectorAll("input:checked") || [])
    .map((box) => /** @type {HTMLInputElement} */ (box).value);
  /** @type {any[]} */
  const dimensions = [];
  for (const id of chosen) {
    const values = valuesOf(id);
    if (values.every((v) => v === null)) continue;
    const numeric = values.every((v) => v === null || typeof v === "number");
    if (numeric) {
      dimensions.push({ label: label(id), values: values.map((v) => (v === null ? NaN : v)) });
    } else {
      const categories = Array.from(new Set(values.map((v) => String(v ?? "—")))).sort();
      dimensions.push({
        label: label(id),
        values: values.map((v) => categories.indexOf(String(v ?? "—"))),
        tickvals: categories.map((_, i) => i),
        ticktext: categories,
      });
    }
  }
  const lastMetric = [...chosen].reverse().find((id) => id.startsWith("metrics."));
  const colors = lastMetric ? valuesOf(lastMetric).map((v) => (typeof v === "number" ? v : NaN)) : undefined;
  const traces = dimensions.length < 2 ? [] : [{
    type: "parcoords",
    dimensions,
    line: colors
      ? { color: colors, colorscale: "Viridis", showscale: true, colorbar: { title: { text: label(lastMetric || "") } } }
      : { color: "#2456d3" },
  }];
  draw("parallel-chart", traces, { margin: { l: 70, r: 110, t: 50, b: 30 } },
    "Parallel coordinates need at least two params or metrics.");
}

function scatter() {
  const x = selected("scatter-x");
  const y = selected("scatter-y");
  const traces = x && y ? [{
    type: "scatter", mode: "markers", x: valuesOf(x), y: valuesOf(y), text: names,
    hovertemplate: "%{text}<br>%{x}, %{y}<extra></extra>", marker: { size: 10, color: "#2456d3" },
  }] : [];
  draw("scatter-chart", traces, {
    xaxis: { title: { text: label(x) } }, yaxis: { title: { text: label(y) } },
  }, "Choose two params or metrics.");
}

function contour() {
  const x = valuesOf(selected("contour-x"));
  const y = valuesOf(selected("contour-y"));
  const z = valuesOf(selected("contour-z"));
  const complete = runs.map((_, i) => i).filter((i) => x[i] !== null && y[i] !== null && typeof z[i] === "number");
  const distinct = (/** @type {any[]} */ values) => new Set(complete.map((i) => values[i])).size;
  const reverse = /** @type {HTMLInputElement | null} */ (document.getElementById("contour-reverse"))?.checked;
  const enough = complete.length >= 3 && distinct(x) >= 2 && distinct(y) >= 2;
  const pick = (/** @type {any[]} */ values) => complete.map((i) => values[i]);
  const traces = enough ? [
    { type: "contour", x: pick(x), y: pick(y), z: pick(z), colorscale: "Viridis", reversescale: Boolean(reverse),
      connectgaps: true, contours: { coloring: "heatmap" }, colorbar: { title: { text: label(selected("contour-z")) } } },
    { type: "scatter", mode: "markers", x: pick(x), y: pick(y), text: complete.map((i) => names[i]),
      hovertemplate: "%{text}<extra></extra>", marker: { color: "#ffffff", size: 7, line: { color: "#1d2430", width: 1 } },
      showlegend: false },
  ] : [];
  draw("contour-chart", traces, {
    xaxis: { title: { text: label(selected("contour-x")) } },
    yaxis: { title: { text: label(selected("contour-y")) } },
  }, "A contour plot needs three runs with at least two distinct values on each axis.");
}

function box() {
  const yId = selected("box-y");
  const groupId = selected("box-group");
  const y = valuesOf(yId);
  const groups = groupId ? valuesOf(groupId).map((v) => String(v ?? "—")) : runs.map(() => "all runs");
  const traces = yId ? [{
    type: "box", x: groups, y, text: names, boxpoints: "all", jitter: 0.4, pointpos: 0,
    marker: { color: "#2456d3" }, line: { color: "#2456d3" }, hovertemplate: "%{text}: %{y}<extra></extra>",
  }] : [];
  draw("box-chart", traces, {
    xaxis: { title: { text: groupId ? label(groupId) : "" }, type: "category" },
    yaxis: { title: { text: label(yId) } },
  }, "There is no metric to plot.");
}

async function history() {
  const key = selected("history-metric");
  const smoothing = Number(/** @type {HTMLInputElement | null} */ (document.getElementById("history-smoothing"))?.value || 0);
  if (!key) {
    draw("history-chart", [], {}, "There is no metric to plot.");
    return;
  }
  const path = encodeURIComponent(key).replace(/%2F/g, "/");
  const url = new URL(data.history_url.replace("__KEY__", path), window.location.origin);
  for (const run of runs.slice(1)) url.searchParams.append("run", run.run_id);
  try {
    const answer = await getJSON(url.toString());
    draw("history-chart", historyTraces(answer.series, { x: "step", smooth: smoothing, labelKey: false }), {
      xaxis: { title: { text: "Step" } }, yaxis: { title: { text: key } }, showlegend: true,
    }, "No points.");
  } catch (error) {
    draw("history-chart", [], {}, error instanceof Error ? error.message : String(error));
  }
}

const redraw = {
  "parallel-picker": parallel,
  "scatter-x": scatter, "scatter-y": scatter,
  "contour-x": contour, "contour-y": contour, "contour-z": contour, "contour-reverse": contour,
  "box-y": box, "box-group": box,
  "history-metric": history, "history-smoothing": history,
};
for (const [id, action] of Object.entries(redraw)) {
  document.getElementById(id)?.addEventListener("change", () => void action());
}

parallel();
scatter();
contour();
box();
void history();
