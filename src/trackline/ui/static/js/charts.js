// @ts-check
/**
 * Chart helpers over Plotly.js (loaded by the page as the global `Plotly`, from the
 * installed plotly package): line traces of metric histories with the x axis, smoothing and
 * log scale the pages offer, and a message in place of a chart that cannot be drawn.
 */

/** @type {any} */
const Plotly = /** @type {any} */ (window).Plotly;

export const CONFIG = { responsive: true, displaylogo: false };
export const LAYOUT = {
  margin: { l: 60, r: 20, t: 20, b: 50 },
  paper_bgcolor: "rgba(0,0,0,0)",
  plot_bgcolor: "#ffffff",
  font: { family: "system-ui, sans-serif", size: 12, color: "#344054" },
  hovermode: "closest",
  legend: { orientation: "h", y: -0.18 },
};
const X_TITLES = { step: "Step", wall: "Time", relative: "Relative time (s)" };

/**
 * An exponential moving average with TensorBoard's start-up correction; gaps stay gaps.
 * @param {(number | null)[]} values
 * @param {number} weight 0 (none) to 0.99
 */
export function smooth(values, weight) {
  if (!weight) return values;
  let last = 0;
  let count = 0;
  return values.map((value) => {
    if (value === null || !Number.isFinite(value)) return null;
    last = last * weight + (1 - weight) * value;
    count += 1;
    return last / (1 - weight ** count);
  });
}

/**
 * The x values of a series for an axis: steps, wall-clock dates or seconds since its start.
 * @param {{step: number[], timestamp: number[]}} series
 * @param {string} axis step | wall | relative
 */
export function xValues(series, axis) {
  if (axis === "wall") return series.timestamp.map((t) => new Date(t));
  if (axis === "relative") {
    const start = series.timestamp.length ? Math.min(...series.timestamp) : 0;
    return series.timestamp.map((t) => (t - start) / 1000);
  }
  return series.step;
}

/**
 * Line traces of metric histories; with smoothing the raw line stays, faint, behind.
 * @param {any[]} seriesList items with run_name, key, step, timestamp, value
 * @param {{x: string, smooth: number, labelKey?: boolean, labelRun?: boolean}} options
 */
export function historyTraces(seriesList, options) {
  const points = seriesList.reduce((sum, s) => sum + s.value.length, 0);
  const type = points > 20000 ? "scattergl" : "scatter";
  const palette = ["#2456d3", "#e4572e", "#17a398", "#f3a712", "#8338ec", "#3a86ff", "#ff006e",
    "#6a994e", "#bc4749", "#577590"];
  /** @type {any[]} */
  const traces = [];
  seriesList.forEach((series, index) => {
    const color = palette[index % palette.length];
    const parts = [];
    if (options.labelRun !== false) parts.push(series.run_name);
    if (options.labelKey !== false) parts.push(series.key);
    const name = parts.join(" · ") || series.key;
    const x = xValues(series, options.x);
    if (options.smooth > 0) {
      traces.push({ type, mode: "lines", x, y: series.value, name: `${name} (raw)`,
        line: { color, width: 1 }, opacity: 0.25, showlegend: false, hoverinfo: "skip" });
    }
    traces.push({
      type,
      mode: series.value.length < 60 ? "lines+markers" : "lines",
      x,
      y: smooth(series.value, options.smooth),
      name,
      line: { color, width: 1.6 },
      connectgaps: false,
    });
  });
  return traces;
}

/**
 * Draw (or redraw) a chart, or show a message where it cannot be drawn.
 * @param {string} id the element
 * @param {any[]} traces
 * @param {object} layout merged over LAYOUT
 * @param {string} [emptyMessage] shown instead when there is nothing to draw
 */
export function draw(id, traces, layout, emptyMessage) {
  const element = document.getElementById(id);
  if (!element) return;
  if (!traces.length) {
    Plotly.purge(element);
    element.replaceChildren();
    const message = document.createElement("p");
    message.className = "chart-message";
    message.textContent = emptyMessage || "Nothing to draw.";
    element.append(message);
    return;
  }
  element.querySelector(".chart-message")?.remove();
  Plotly.react(element, traces, { ...LAYOUT, ...layout }, CONFIG);
}

/** @param {string} axis */
export function xTitle(axis) {
  return /** @type {Record<string, string>} */ (X_TITLES)[axis] || axis;
}
