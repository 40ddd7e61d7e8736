// @ts-check
/** The run page: rename the run, edit its description, add, edit and delete its tags. */
import { field, postAction, revealOnClick, showError, submitAction } from "./common.js";

const page = document.getElementById("run-page");
const base = `/runs/${encodeURIComponent(page?.dataset.runId || "")}`;

const renameForm = /** @type {HTMLFormElement | null} */ (document.getElementById("rename-form"));
revealOnClick("rename-run", renameForm);
submitAction(renameForm, (data) => postAction(`${base}/rename`, { name: field(data, "name") }));

const descriptionForm = /** @type {HTMLFormElement | null} */ (
  document.querySelector("#description form")
);
revealOnClick("edit-description", descriptionForm);
submitAction(descriptionForm, (data) =>
  postAction(`${base}/description`, { text: field(data, "text") }),
);

const tagForm = /** @type {HTMLFormElement | null} */ (document.getElementById("tag-form"));
submitAction(tagForm, (data) =>
  postAction(`${base}/tags/set`, { key: field(data, "key"), value: field(data, "value") }),
);

document.getElementById("tags-table")?.addEventListener("click", async (event) => {
  const target = event.target;
  if (!(target instanceof HTMLButtonElement) || !target.dataset.action) return;
  const row = target.closest("tr");
  if (!(row instanceof HTMLElement)) return;
  const key = row.dataset.key || "";
  try {
    if (target.dataset.action === "edit-tag") {
      const current = row.querySelector(".tag-value")?.textContent || "";
      const value = window.prompt(`New value of the tag "${key}":`, current);
      if (value === null) return;
      await postAction(`${base}/tags/set`, { key, value });
    } else if (target.dataset.action === "delete-tag") {
      if (!window.confirm(`Delete the tag "${key}"?`)) return;
      await postAction(`${base}/tags/delete`, { key });
    }
    window.location.reload();
  } catch (error) {
    showError(null, error);
  }
});
