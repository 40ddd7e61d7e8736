// @ts-check
/**
 * The metric chart page: the series come in the page's data (downsampled by the server);
 * the x axis, smoothing and log scale are redrawn here. Adding or removing a run or a metric
 * fetches the page's JSON twin for the new selection, puts its address in the browser's
 * history (so the view can be shared, reloaded and gone back to) and redraws. Runs are
 * picked among the experiment's, searched by name through `data.run_search_url`.
 *
 * Run names and metric keys are user input: they reach the page only as text (textContent,
 * `new Option`), never as HTML.
 */
import { API, getJSON, pageData } from "./common.js";
import { draw, historyTraces, xTitle } from "./charts.js";

/** @type {any} */
let data = pageData();
const state = { x: data.x, smooth: Number(data.smooth) || 0, log: Boolean(data.log) };
/** How many runs the picker asks for at a time. */
const CHOICES = 50;

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
    data.series.length > 1 ? "These metrics have no points." : "This metric has no points.",
  );
}

/** Keep the view's choices in the address, so it can be shared and reloaded. */
function remember() {
  const url = new URL(window.location.href);
  url.searchParams.set("x", state.x);
  if (state.smooth) url.searchParams.set("smooth", String(state.smooth));
  else url.searchParams.delete("smooth");
  if (state.log) url.searchParams.set("log", "1");
  else url.searchParams.delete("log");
  window.history.replaceState(null, "", url.toString());
}

// -- the selection of runs and metrics ----------------------------------------------------

/**
 * The page's address for a selection: the first run and metric in the path, the others as
 * repeated `run` and `metric` parameters; the view's other parameters are kept.
 * @param {string[]} runs
 * @param {string[]} metrics
 */
function chartUrl(runs, metrics) {
  const url = new URL(window.location.href);
  const key = metrics[0].split("/").map(encodeURIComponent).join("/");
  url.pathname = `/runs/${encodeURIComponent(runs[0])}/metrics/${key}`;
  url.searchParams.delete("run");
  url.searchParams.delete("metric");
  for (const run of runs.slice(1)) url.searchParams.append("run", run);
  for (const metric of metrics.slice(1)) url.searchParams.append("metric", metric);
  return url;
}

const picker = document.getElementById("series-picker");
const errorSlot = document.getElementById("series-error");

/** @param {string} message */
function showProblem(message) {
  if (errorSlot) errorSlot.textContent = message;
}

let selecting = 0;
/**
 * Show another selection: fetch its data, record its address, redraw.
 * @param {string[]} runs
 * @param {string[]} metrics
 */
async function select(runs, metrics) {
  if (!runs.length || !metrics.length) return;
  const url = chartUrl(runs, metrics);
  const ticket = ++selecting;
  picker?.setAttribute("aria-busy", "true");
  try {
    const next = await getJSON(API + url.pathname + url.search);
    if (ticket !== selecting) return;
    data = next;
    window.history.pushState(null, "", url.toString());
    showProblem("");
    update();
  } catch (error) {
    if (ticket === selecting) showProblem(error instanceof Error ? error.message : String(error));
  } finally {
    if (ticket === selecting) picker?.removeAttribute("aria-busy");
  }
}

/** @returns {string[]} the ids of the runs shown */
const runIds = () => data.runs.map((/** @type {any} */ r) => r.run_id);

/**
 * A chip: a label (a link when `href` is given) and a button that removes it.
 * @param {string} text
 * @param {string | null} href
 * @param {string} kind run | metric
 * @param {string} value
 * @param {boolean} removable
 */
function chip(text, href, kind, value, removable) {
  const item = document.createElement("li");
  item.className = "chip";
  const label = document.createElement(href ? "a" : "span");
  if (label instanceof HTMLAnchorElement && href) label.href = href;
  label.textContent = text;
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "chip-remove";
  remove.textContent = "×";
  remove.title = "Remove from the chart";
  remove.setAttribute("aria-label", `Remove ${kind} ${text}`);
  remove.disabled = !removable;
  if (kind === "run") {
    item.dataset.runId = value;
    remove.dataset.removeRun = value;
  } else {
    item.dataset.metric = value;
    remove.dataset.removeMetric = value;
  }
  item.append(label, remove);
  return item;
}

/** The breadcrumbs: experiments › the first run's experiment › the first run › the key. */
function updateCrumbs() {
  const nav = document.querySelector("nav.crumbs");
  if (!nav) return;
  const run = data.run;
  /** @type {[string, string | null][]} */
  const items = [
    ["Experiments", "/"],
    [run.experiment_name, `/experiments/${encodeURIComponent(run.experiment_id)}`],
    [run.name, `/runs/${encodeURIComponent(run.run_id)}`],
    [data.key, null],
  ];
  const parts = [];
  items.forEach(([text, href], index) => {
    const part = document.createElement(href ? "a" : "span");
    if (part instanceof HTMLAnchorElement && href) part.href = href;
    part.textContent = text;
    parts.push(part);
    if (index < items.length - 1) {
      const sep = document.createElement("span");
      sep.className = "sep";
      sep.setAttribute("aria-hidden", "true");
      sep.textContent = "›";
      parts.push(sep);
    }
  });
  nav.replaceChildren(...parts);
}

function updateSeriesTable() {
  const body = document.getElementById("series-rows");
  if (!body) return;
  body.replaceChildren(
    ...data.series.map((/** @type {any} */ s) => {
      const row = document.createElement("tr");
      const cells = [s.run_name, s.key, s.total.toLocaleString("en-US"), s.value.length.toLocaleString("en-US")];
      cells.forEach((text, index) => {
        const cell = document.createElement("td");
        cell.textContent = String(text);
        if (index > 1) cell.className = "num";
        row.append(cell);
      });
      if (s.sampled) {
        const note = document.createElement("span");
        note.className = "muted small";
        note.textContent = "(min/max per bucket)";
        row.lastElementChild?.append(" ", note);
      }
      return row;
    }),
  );
}

const addMetric = /** @type {HTMLSelectElement | null} */ (document.getElementById("add-metric"));
const addRun = /** @type {HTMLSelectElement | null} */ (document.getElementById("add-run"));
const runSearch = /** @type {HTMLInputElement | null} */ (document.getElementById("run-search"));

function updateMetricOptions() {
  if (!addMetric) return;
  const shown = new Set(data.metrics);
  const options = data.available_metrics
    .filter((/** @type {string} */ key) => !shown.has(key))
    .map((/** @type {string} */ key) => new Option(key, key));
  addMetric.replaceChildren(new Option("Add a metric…", ""), ...options);
}

/** @type {any[]} the runs of the last search */
let choices = [];
/** @type {string} the search the choices answer */
let choicesUrl = "";

function updateRunOptions() {
  if (!addRun) return;
  const shown = new Set(runIds());
  const options = choices
    .filter((run) => !shown.has(run.run_id))
    .map((run) => new Option(`${run.name} · ${run.run_id.slice(0, 8)}`, run.run_id));
  const prompt = choices.length && !options.length ? "No other run matches" : "Add a run…";
  addRun.replaceChildren(new Option(prompt, ""), ...options);
}

let searching = 0;
/** Ask the server for the experiment's runs named like the search box's text. */
async function loadChoices() {
  const url = new URL(data.run_search_url, window.location.origin);
  const text = runSearch ? runSearch.value.trim() : "";
  if (text) url.searchParams.set("q", text);
  url.searchParams.set("limit", String(CHOICES));
  const address = url.pathname + url.search;
  const ticket = ++searching;
  try {
    const answer = await getJSON(address);
    if (ticket !== searching) return;
    choices = answer.runs;
    choicesUrl = data.run_search_url;
    updateRunOptions();
  } catch (error) {
    if (ticket === searching) showProblem(error instanceof Error ? error.message : String(error));
  }
}

/** Show the data of the selection: title, crumbs, pickers, table and chart. */
function update() {
  const title = `${data.metrics.join(", ")}: ${data.run.name}`;
  document.title = `${title} · trackline`;
  const heading = document.getElementById("chart-title");
  if (heading) heading.textContent = data.metrics.join(", ");
  updateCrumbs();
  const several = data.runs.length > 1;
  document.getElementById("run-chips")?.replaceChildren(
    ...data.runs.map((/** @type {any} */ r) => chip(r.name, r.url, "run", r.run_id, several)),
  );
  const keys = data.metrics.length > 1;
  document.getElementById("metric-chips")?.replaceChildren(
    ...data.metrics.map((/** @type {string} */ k) => chip(k, null, "metric", k, keys)),
  );
  updateMetricOptions();
  if (choicesUrl !== data.run_search_url) void loadChoices();
  else updateRunOptions();
  updateSeriesTable();
  render();
}

picker?.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("button.chip-remove") : null;
  if (!(button instanceof HTMLButtonElement) || button.disabled) return;
  const { removeRun, removeMetric } = button.dataset;
  if (removeRun !== undefined) {
    void select(runIds().filter((/** @type {string} */ r) => r !== removeRun), data.metrics);
  } else if (removeMetric !== undefined) {
    void select(runIds(), data.metrics.filter((/** @type {string} */ k) => k !== removeMetric));
  }
});
addMetric?.addEventListener("change", () => {
  const key = addMetric.value;
  addMetric.value = "";
  if (key) void select(runIds(), [...data.metrics, key]);
});
addRun?.addEventListener("change", () => {
  const run = addRun.value;
  addRun.value = "";
  if (run) void select([...runIds(), run], data.metrics);
});
/** @type {number | undefined} */
let typing;
runSearch?.addEventListener("input", () => {
  window.clearTimeout(typing);
  typing = window.setTimeout(() => void loadChoices(), 250);
});

// -- the view: x axis, smoothing, log scale ------------------------------------------------

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

// Back and forward go through the selections made here.
window.addEventListener("popstate", async () => {
  const url = new URL(window.location.href);
  try {
    data = await getJSON(API + url.pathname + url.search);
  } catch (_) {
    window.location.reload();
    return;
  }
  state.x = data.x;
  state.smooth = Number(data.smooth) || 0;
  state.log = Boolean(data.log);
  for (const radio of document.querySelectorAll("input[name=x]")) {
    if (radio instanceof HTMLInputElement) radio.checked = radio.value === state.x;
  }
  if (slider) slider.value = String(state.smooth);
  if (sliderValue) sliderValue.textContent = String(state.smooth);
  if (logBox) logBox.checked = state.log;
  update();
});

render();
void loadChoices();
