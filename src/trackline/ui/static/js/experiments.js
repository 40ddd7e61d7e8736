// @ts-check
/** The experiments list: create, rename, delete and restore experiments. */
import { field, postAction, revealOnClick, showError, submitAction } from "./common.js";

const createForm = /** @type {HTMLFormElement | null} */ (document.getElementById("create-form"));
revealOnClick("new-experiment", createForm);
submitAction(createForm, (data) =>
  postAction("/experiments/create", { name: field(data, "name") }),
);

const table = document.getElementById("experiments-table");
table?.addEventListener("click", async (event) => {
  const target = event.target;
  if (!(target instanceof HTMLButtonElement) || !target.dataset.action) return;
  const row = target.closest("tr");
  if (!(row instanceof HTMLElement)) return;
  const id = row.dataset.experimentId || "";
  const name = row.dataset.name || "";
  const base = `/experiments/${encodeURIComponent(id)}`;
  try {
    if (target.dataset.action === "rename") {
      const renamed = window.prompt(`Rename the experiment "${name}" to:`, name);
      if (renamed === null || renamed.trim() === "" || renamed === name) return;
      await postAction(`${base}/rename`, { name: renamed });
    } else if (target.dataset.action === "delete") {
      if (!window.confirm(`Delete the experiment "${name}" and its runs? It can be restored.`)) return;
      await postAction(`${base}/delete`, {});
    } else if (target.dataset.action === "restore") {
      await postAction(`${base}/restore`, {});
    }
    window.location.reload();
  } catch (error) {
    showError(null, error);
  }
});
