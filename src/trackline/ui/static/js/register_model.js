// @ts-check
/**
 * The Register model form: opened by a button with data-register (data-path: a model folder
 * of the run's artifacts; data-model-id: a logged model of the run), it registers the model
 * as a new version of an existing registered model or of a new one, then shows the version.
 */
import { API, getJSON, postAction, showError } from "./common.js";

const form = /** @type {HTMLFormElement | null} */ (document.getElementById("register-form"));
const select = /** @type {HTMLSelectElement | null} */ (
  document.getElementById("register-existing")
);
const nameInput = /** @type {HTMLInputElement | null} */ (
  document.getElementById("register-name")
);
const result = document.getElementById("register-result");
/** @type {{path?: string, model_id?: string}} */
let target = {};

/** The registered models' names, for the "existing model" choice. */
async function loadModels() {
  if (!select) return;
  const answer = await getJSON(`${API}/models?limit=1000`);
  select.replaceChildren();
  for (const model of answer.models || []) {
    const option = document.createElement("option");
    option.value = model.name;
    option.textContent = model.name;
    select.append(option);
  }
  if (select.options.length === 0) choose("new");
}

/** @param {string} into "existing" or "new" */
function choose(into) {
  if (!form) return;
  for (const radio of form.querySelectorAll("input[name=into]")) {
    if (radio instanceof HTMLInputElement) radio.checked = radio.value === into;
  }
  for (const element of form.querySelectorAll("[data-into]")) {
    if (element instanceof HTMLElement) element.hidden = element.dataset.into !== into;
  }
  if (into === "new") nameInput?.focus();
}

function into() {
  const checked = form?.querySelector("input[name=into]:checked");
  return checked instanceof HTMLInputElement ? checked.value : "existing";
}

form?.addEventListener("change", (event) => {
  const radio = event.target;
  if (radio instanceof HTMLInputElement && radio.name === "into") choose(radio.value);
});

for (const button of document.querySelectorAll("[data-register]")) {
  if (!(button instanceof HTMLElement)) continue;
  button.addEventListener("click", async () => {
    if (!form) return;
    target = button.dataset.modelId
      ? { model_id: button.dataset.modelId }
      : { path: button.dataset.path || "" };
    const what = document.getElementById("register-what");
    if (what) {
      what.textContent = button.dataset.modelId
        ? `${button.dataset.label || ""} (${button.dataset.modelId})`
        : button.dataset.path || "(root)";
    }
    form.hidden = false;
    if (result) result.hidden = true;
    const error = form.querySelector(".form-error");
    if (error) error.textContent = "";
    form.scrollIntoView({ block: "nearest" });
    try {
      await loadModels();
    } catch (failure) {
      showError(form, failure);
    }
  });
}

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const runId = form.dataset.runId || "";
  const isNew = into() === "new";
  const name = isNew ? (nameInput?.value || "").trim() : select?.value || "";
  const error = form.querySelector(".form-error");
  if (error) error.textContent = "";
  if (!name) {
    showError(form, new Error(isNew ? "Name the new model." : "Choose a model."));
    return;
  }
  const submit = form.querySelector("button[type=submit]");
  if (submit instanceof HTMLButtonElement) submit.disabled = true;
  try {
    const answer = await postAction(`/runs/${encodeURIComponent(runId)}/register`, {
      ...target,
      name,
      new: isNew,
    });
    showResult(answer);
    if (isNew) await loadModels().then(() => choose("existing"));
    if (select) select.value = answer.name;
  } catch (failure) {
    showError(form, failure);
  } finally {
    if (submit instanceof HTMLButtonElement) submit.disabled = false;
  }
});

/** @param {{name: string, version: string, version_url: string, model_url: string}} answer */
function showResult(answer) {
  if (!result) return;
  const version = document.createElement("a");
  version.href = answer.version_url;
  version.id = "registered-version";
  version.textContent = `version ${answer.version}`;
  const model = document.createElement("a");
  model.href = answer.model_url;
  model.textContent = answer.name;
  result.replaceChildren("Registered as ", version, " of ", model, ".");
  result.hidden = false;
}
