// @ts-check
/**
 * Helpers shared by the pages, and the behaviour every page has: forms with a Cancel
 * button, tables filtered by a search box.
 *
 * Nothing here builds HTML from strings: text goes into the page through textContent.
 */

/** The prefix of the JSON twins and of the UI's actions. */
export const API = "/ui-api";

/**
 * POST a JSON body to one of the UI's actions.
 * @param {string} path the action's path under /ui-api
 * @param {object} body
 * @returns {Promise<any>} the answer; rejects with the server's message
 */
export async function postAction(path, body) {
  const response = await fetch(API + path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  let answer = {};
  try {
    answer = await response.json();
  } catch (_) {
    answer = {};
  }
  if (!response.ok) {
    throw new Error(answer.message || `The server answered ${response.status}`);
  }
  return answer;
}

/**
 * GET a JSON twin.
 * @param {string} url
 * @returns {Promise<any>}
 */
export async function getJSON(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.message || `The server answered ${response.status}`);
  return answer;
}

/** The page's data (the JSON twin's body), embedded in the page, or null. */
export function pageData() {
  const element = document.getElementById("page-data");
  return element ? JSON.parse(element.textContent || "null") : null;
}

/**
 * Show an action's failure next to its form (or in an alert when there is no form).
 * @param {Element | null} form
 * @param {unknown} error
 */
export function showError(form, error) {
  const message = error instanceof Error ? error.message : String(error);
  const slot = form && form.querySelector(".form-error");
  if (slot) slot.textContent = message;
  else window.alert(message);
}

/**
 * Open a hidden form when a button is clicked (and focus its first field).
 * @param {string} buttonId
 * @param {HTMLFormElement | null} form
 */
export function revealOnClick(buttonId, form) {
  const button = document.getElementById(buttonId);
  if (!button || !form) return;
  button.addEventListener("click", () => {
    form.hidden = false;
    const field = form.querySelector("input, textarea");
    if (field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement) field.focus();
  });
}

/**
 * Run an action when a form is submitted, then reload the page (or go where it says).
 * @param {HTMLFormElement | null} form
 * @param {(data: FormData) => Promise<any>} action
 */
export function submitAction(form, action) {
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    try {
      const answer = await action(new FormData(form));
      if (answer && typeof answer.url === "string") window.location.assign(answer.url);
      else window.location.reload();
    } catch (error) {
      showError(form, error);
      buttons.forEach((b) => (b.disabled = false));
    }
  });
}

/** @param {FormData} data @param {string} name */
export function field(data, name) {
  const value = data.get(name);
  return typeof value === "string" ? value : "";
}

function setUpCancelButtons() {
  for (const button of document.querySelectorAll("[data-cancel]")) {
    button.addEventListener("click", () => {
      const form = button.closest("form");
      if (form) form.hidden = true;
    });
  }
}

function setUpTableFilters() {
  for (const input of document.querySelectorAll("input.table-filter")) {
    if (!(input instanceof HTMLInputElement)) continue;
    const table = document.getElementById(input.dataset.table || "");
    if (!table) continue;
    input.addEventListener("input", () => {
      const needle = input.value.trim().toLowerCase();
      for (const row of table.querySelectorAll("tbody tr")) {
        const text = (row.textContent || "").toLowerCase();
        if (row instanceof HTMLElement) row.hidden = needle !== "" && !text.includes(needle);
      }
    });
  }
}

setUpCancelButtons();
setUpTableFilters();
