// @ts-check
/** A model version's page: stage transition, aliases, description, delete. */
import { field, postAction, revealOnClick, showError, submitAction } from "./common.js";

const page = document.getElementById("version-page");
const base = page?.dataset.base || "";
const modelBase = page?.dataset.modelBase || "";
const version = page?.dataset.version || "";

const stageForm = /** @type {HTMLFormElement | null} */ (document.getElementById("stage-form"));
const stageSelect = /** @type {HTMLSelectElement | null} */ (
  document.getElementById("stage-select")
);
const archive = /** @type {HTMLInputElement | null} */ (
  document.getElementById("archive-existing")
);

/** The archive option applies to Staging and Production only. */
function updateArchiveOption() {
  if (!stageForm || !stageSelect || !archive) return;
  const archiving = (stageForm.dataset.archiving || "").split(",");
  const allowed = archiving.includes(stageSelect.value);
  archive.disabled = !allowed;
  if (!allowed) archive.checked = false;
  const label = archive.closest("label");
  if (label) label.classList.toggle("muted", !allowed);
}
stageSelect?.addEventListener("change", updateArchiveOption);
updateArchiveOption();
submitAction(stageForm, (data) =>
  postAction(`${base}/stage`, {
    stage: field(data, "stage"),
    archive_existing: data.get("archive_existing") === "on",
  }),
);

const descriptionForm = /** @type {HTMLFormElement | null} */ (
  document.querySelector("#description form")
);
revealOnClick("edit-description", descriptionForm);
submitAction(descriptionForm, (data) =>
  postAction(`${base}/description`, { text: field(data, "text") }),
);

const aliasForm = /** @type {HTMLFormElement | null} */ (document.getElementById("alias-form"));
submitAction(aliasForm, async (data) => {
  await postAction(`${modelBase}/aliases/set`, { alias: field(data, "alias"), version });
  return {}; // stay here
});

document.getElementById("version-aliases")?.addEventListener("click", async (event) => {
  const target = event.target;
  if (!(target instanceof HTMLButtonElement) || target.dataset.action !== "delete-alias") return;
  const item = target.closest("li");
  const alias = item instanceof HTMLElement ? item.dataset.alias || "" : "";
  if (!window.confirm(`Delete the alias @${alias}?`)) return;
  try {
    await postAction(`${modelBase}/aliases/delete`, { alias });
    window.location.reload();
  } catch (error) {
    showError(null, error);
  }
});

document.getElementById("delete-version")?.addEventListener("click", async () => {
  const typed = window.prompt(`Delete version ${version}? Type its number to confirm:`);
  if (typed === null) return;
  try {
    const answer = await postAction(`${base}/delete`, { confirm: typed.trim() });
    window.location.assign(answer.url);
  } catch (error) {
    showError(null, error);
  }
});
