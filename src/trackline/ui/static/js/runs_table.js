// @ts-check
/**
 * The runs table: selecting runs (compare, delete, restore), folding child runs under their
 * parent, the column picker, the view and page-size pickers, and the experiment's
 * description. Sorting, filtering and paging are links and a form: the server does them.
 */
import { field, getJSON, postAction, revealOnClick, showError, submitAction } from "./common.js";

const table = document.getElementById("runs-table");
const selectAll = /** @type {HTMLInputElement | null} */ (document.getElementById("select-all"));
const compareButton = /** @type {HTMLButtonElement | null} */ (document.getElementById("compare-selected"));
const deleteButton = /** @type {HTMLButtonElement | null} */ (document.getElementById("delete-selected"));
const restoreButton = /** @type {HTMLButtonElement | null} */ (document.getElementById("restore-selected"));

/** @returns {HTMLInputElement[]} */
function rowBoxes() {
  return table ? Array.from(table.querySelectorAll("input.row-select")) : [];
}

function selectedIds() {
  return rowBoxes().filter((box) => box.checked).map((box) => box.value);
}

function refreshSelection() {
  const ids = selectedIds();
  for (const box of rowBoxes()) box.closest("tr")?.classList.toggle("selected", box.checked);
  if (compareButton) {
    compareButton.disabled = ids.length < 2;
    compareButton.textContent = ids.length ? `Compare (${ids.length})` : "Compare";
  }
  if (deleteButton) deleteButton.disabled = ids.length === 0;
  if (restoreButton) restoreButton.disabled = ids.length === 0;
  if (selectAll) {
    const boxes = rowBoxes();
    selectAll.checked = boxes.length > 0 && ids.length === boxes.length;
    selectAll.indeterminate = ids.length > 0 && ids.length < boxes.length;
  }
}

table?.addEventListener("change", (event) => {
  if (event.target instanceof HTMLInputElement && event.target.classList.contains("row-select")) {
    refreshSelection();
  }
});
selectAll?.addEventListener("change", () => {
  for (const box of rowBoxes()) box.checked = selectAll.checked;
  refreshSelection();
});
compareButton?.addEventListener("click", () => {
  const ids = selectedIds();
  if (ids.length > 1) window.location.assign(`/compare?runs=${ids.map(encodeURIComponent).join(",")}`);
});
deleteButton?.addEventListener("click", async () => {
  const ids = selectedIds();
  if (!ids.length || !window.confirm(`Delete ${ids.length} run(s)? They can be restored.`)) return;
  try {
    await postAction("/runs/delete", { run_ids: ids });
    window.location.reload();
  } catch (error) {
    showError(null, error);
  }
});
restoreButton?.addEventListener("click", async () => {
  const ids = selectedIds();
  if (!ids.length) return;
  try {
    await postAction("/runs/restore", { run_ids: ids });
    window.location.reload();
  } catch (error) {
    showError(null, error);
  }
});

// Child runs fold under their parent: hide every following row that is deeper.
table?.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("button.toggle") : null;
  if (!(button instanceof HTMLButtonElement)) return;
  const row = button.closest("tr");
  if (!(row instanceof HTMLElement)) return;
  const open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  const depth = Number(row.dataset.depth || 0);
  let next = row.nextElementSibling;
  while (next instanceof HTMLElement && Number(next.dataset.depth || 0) > depth) {
    next.hidden = !open;
    if (open) {
      // A folded grandchild group stays folded.
      const inner = next.querySelector("button.toggle");
      if (inner && inner.getAttribute("aria-expanded") === "false") {
        const innerDepth = Number(next.dataset.depth || 0);
        let skip = next.nextElementSibling;
        while (skip instanceof HTMLElement && Number(skip.dataset.depth || 0) > innerDepth) {
          skip = skip.nextElementSibling;
        }
        next = skip;
        continue;
      }
    }
    next = next.nextElementSibling;
  }
});

/**
 * Go to this page with some query parameters changed (and back to the first page).
 * @param {(params: URLSearchParams) => void} change
 */
function navigate(change) {
  const url = new URL(window.location.href);
  change(url.searchParams);
  url.searchParams.delete("offset");
  window.location.assign(url.toString());
}

// The column picker: a search box over the checkboxes, and Apply.
const picker = document.getElementById("column-picker");
const columnSearch = /** @type {HTMLInputElement | null} */ (document.getElementById("column-search"));
columnSearch?.addEventListener("input", () => {
  const needle = columnSearch.value.trim().toLowerCase();
  for (const label of picker?.querySelectorAll("fieldset label") || []) {
    if (label instanceof HTMLElement) {
      label.hidden = needle !== "" && !(label.textContent || "").toLowerCase().includes(needle);
    }
  }
});
document.getElementById("apply-columns")?.addEventListener("click", () => {
  const boxes = picker ? Array.from(picker.querySelectorAll("fieldset input[type=checkbox]")) : [];
  const chosen = boxes
    .filter((box) => box instanceof HTMLInputElement && box.checked)
    .map((box) => /** @type {HTMLInputElement} */ (box).value);
  navigate((params) => {
    params.delete("col");
    for (const column of chosen.length ? chosen : ["-"]) params.append("col", column);
  });
});

for (const [id, name] of [["view-select", "view"], ["limit-select", "limit"]]) {
  const select = document.getElementById(id);
  if (select instanceof HTMLSelectElement) {
    select.addEventListener("change", () => navigate((params) => params.set(name, select.value)));
  }
}

// The experiment's description.
const description = document.getElementById("experiment-description");
const descriptionForm = /** @type {HTMLFormElement | null} */ (description?.querySelector("form") || null);
revealOnClick("edit-description", descriptionForm);
submitAction(descriptionForm, (data) =>
  postAction(`/experiments/${encodeURIComponent(description?.dataset.experimentId || "")}/description`, {
    text: field(data, "text"),
  }),
);

// The total: counting every matching run is the slow part of a page, so it comes apart.
async function showTotal() {
  const count = document.getElementById("run-count");
  const url = count?.dataset.countUrl;
  if (!count || !url) return;
  try {
    const { total } = await getJSON(url);
    if (typeof total !== "number") return;
    const slot = document.getElementById("run-total");
    if (slot) slot.textContent = `of ${total.toLocaleString("en-US")}`;
    const limit = Number(count.dataset.limit || 100);
    const offset = Number(count.dataset.offset || 0);
    const pager = document.querySelector("nav.pager");
    if (pager && total > offset + limit && !document.getElementById("last-page")) {
      const last = new URL(window.location.href);
      last.searchParams.set("offset", String(Math.floor((total - 1) / limit) * limit));
      const link = document.createElement("a");
      link.id = "last-page";
      link.href = last.toString();
      link.textContent = "Last »";
      pager.append(link);
    }
  } catch (_) {
    // The count is a convenience: the table is there without it.
  }
}

refreshSelection();
void showTotal();
