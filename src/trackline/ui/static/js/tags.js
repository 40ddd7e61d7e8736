// @ts-check
/**
 * Tag editors of the registry pages: a table with data-set and data-delete (the actions'
 * paths) whose rows can be edited and deleted, and the add form of its section.
 */
import { field, postAction, showError, submitAction } from "./common.js";

for (const table of document.querySelectorAll("table.tag-table")) {
  if (!(table instanceof HTMLElement)) continue;
  const setPath = table.dataset.set || "";
  const deletePath = table.dataset.delete || "";
  const form = /** @type {HTMLFormElement | null} */ (
    table.closest("section")?.querySelector("form.tag-form") || null
  );
  submitAction(form, (data) =>
    postAction(setPath, { key: field(data, "key"), value: field(data, "value") }),
  );
  table.addEventListener("click", async (event) => {
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
        await postAction(setPath, { key, value });
      } else if (target.dataset.action === "delete-tag") {
        if (!window.confirm(`Delete the tag "${key}"?`)) return;
        await postAction(deletePath, { key });
      }
      window.location.reload();
    } catch (error) {
      showError(null, error);
    }
  });
}
