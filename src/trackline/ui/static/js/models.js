// @ts-check
/** The registered models list: create a model. */
import { field, postAction, revealOnClick, submitAction } from "./common.js";

const createForm = /** @type {HTMLFormElement | null} */ (
  document.getElementById("create-model-form")
);
revealOnClick("new-model", createForm);
submitAction(createForm, (data) =>
  postAction("/models/create", {
    name: field(data, "name"),
    description: field(data, "description"),
  }),
);
