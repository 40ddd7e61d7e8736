// @ts-check
/** A registered model's page: description, aliases, rename and delete. */
import { field, postAction, revealOnClick, showError, submitAction } from "./common.js";

const page = document.getElementById("model-page");
const base = page?.dataset.base || "";
const name = page?.dataset.name || "";

const descriptionForm = /** @type {HTMLFormElement | null} */ (
  document.querySelector("#description form")
);
revealOnClick("edit-description", descriptionForm);
submitAction(descriptionForm, (data) =>
  postAction(`${base}/description`, { text: field(data, "text") }),
);

const renameForm = /** @type {HTMLFormElement | null} */ (document.getElementById("rename-form"));
revealOnClick("rename-model", renameForm);
submitAction(renameForm, (data) =>
  postAction(`${base}/rename`, { new_name: field(data, "new_name") }),
);

document.getElementById("delete-model")?.addEventListener("click", async () => {
  const typed = window.prompt(
    `Delete the model "${name}" with all its versions? Type its name to confirm:`,
  );
  if (typed === null) return;
  try {
    const answer = await postAction(`${base}/delete`, { confirm: typed });
    window.location.assign(answer.url);
  } catch (error) {
    showError(null, error);
  }
});

const aliasForm = /** @type {HTMLFormElement | null} */ (document.getElementById("alias-form"));
submitAction(aliasForm, async (data) => {
  await postAction(`${base}/aliases/set`, {
    alias: field(data, "alias"),
    version: field(data, "version"),
  });
  return {}; // stay on the model's page
});

document.getElementById("aliases-table")?.addEventListener("click", async (event) => {
  const target = event.target;
  if (!(target instanceof HTMLButtonElement) || !target.dataset.action) return;
  const row = target.closest("tr");
  if (!(row instanceof HTMLElement)) return;
  const alias = row.dataset.alias || "";
  try {
    if (target.dataset.action === "move-alias") {
      const version = window.prompt(`Move @${alias} to version:`, row.dataset.version || "");
      if (version === null || version.trim() === "") return;
      await postAction(`${base}/aliases/set`, { alias, version: version.trim() });
    } else if (target.dataset.action === "delete-alias") {
      if (!window.confirm(`Delete the alias @${alias}?`)) return;
      await postAction(`${base}/aliases/delete`, { alias });
    }
    window.location.reload();
  } catch (error) {
    showError(null, error);
  }
});
