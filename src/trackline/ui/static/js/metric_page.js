// @ts-check
/**
 * The metric chart page: the series come in the page's data (downsampled by the server);
 * the x axis, smoothing and log scale are redrawn here; adding a metric reloads the page
 * with one more `metric` parameter.
 */
import { pageData } from "./common.js";
import { draw, historyTraces, xTitle } from "./charts.js";

const data = pageData();
const state = { x: data.x, smooth: Number(data.smooth) || 0, log: Boolean(data.log) };

function render() {
  const traces = historyTraces(data.series, {
    x: state.x,
    smooth: state.smooth,
    labelRun: data.runs.length > 1,
    labelKey: data.metrics.length > 1 || data.runs.length === 1,
  });
  const hasPoints = data.series.some((/** @type {any} */ s) => s.value.length > 0);
  draw(
    "metric-chart",
    hasPoints ? traces : [],
    {
      xaxis: { title: { text: xTitle(state.x) }, type: state.x === "wall" ? "date" : "linear" },
      yaxis: { type: state.log ? "log" : "linear", title: { text: data.metrics.join(", ") } },
      showlegend: traces.length > 1,
    },
    "This metric has no points.",
  );
}

/** Keep the choices in the address, so the view can be shared and reloaded. */
function remember() {
  const url = new URL(window.location.href);
  url.searchParams.set("x", state.x);
  if (state.smooth) url.searchParams.set("smooth", String(state.smooth));
  else url.searchParams.delete("smooth");
  if (state.log) url.searchParams.set("log", "1");
  else url.searchParams.delete("log");
  window.history.replaceState(null, "", url.toString());
}

for (const radio of document.querySelectorAll("input[name=x]")) {
  radio.addEventListener("change", () => {
    if (radio instanceof HTMLInputElement && radio.checked) {
      state.x = radio.value;
      remember();
      render();
    }
  });
}
const slider = /** @type {HTMLInputElement | null} */ (document.getElementById("smoothing"));
const sliderValue = document.getElementById("smoothing-value");
slider?.addEventListener("input", () => {
  state.smooth = Number(slider.value);
  if (sliderValue) sliderValue.textContent = slider.value;
  remember();
  render();
});
const logBox = /** @type {HTMLInputElement | null} */ (document.getElementById("log-scale"));
logBox?.addEventListener("change", () => {
  state.log = logBox.checked;
  remember();
  render();
});
const addMetric = /** @type {HTMLSelectElement | null} */ (document.getElementById("add-metric"));
addMetric?.addEventListener("change", () => {
  if (!addMetric.value) return;
  const url = new URL(window.location.href);
  url.searchParams.append("metric", addMetric.value);
  window.location.assign(url.toString());
});

render();
