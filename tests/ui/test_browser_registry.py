"""The registry's pages in a real browser (Debian's Chromium, headless) against
``trackline ui`` on the seeded store: the Register model flow, a stage transition with the
archive option, aliases set and moved, each page without a console error (the ``ui``
fixture checks), with screenshots for docs/ui.md. The live server is shared by the session,
so every test uses a model of its own."""

from __future__ import annotations

from typing import Any

import httpx
from tests.ui.conftest import BrowserPage
from tests.ui.seed import SCRIPT, Seeded

Server = tuple[str, Seeded]


def _twin(server: Server, path: str, **params: Any) -> Any:
    url, _ = server
    response = httpx.get(f"{url}/ui-api{path}", params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _post(server: Server, path: str, body: Any) -> Any:
    url, _ = server
    response = httpx.post(f"{url}/ui-api{path}", json=body, headers={"Origin": url}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _register(server: Server, name: str, times: int) -> None:
    run_id = server[1].artifact_run_id
    for index in range(times):
        body = {"name": name, "new": index == 0, "path": "model"}
        _post(server, f"/runs/{run_id}/register", body)


def test_register_model_creates_version_one_then_two(ui: BrowserPage, live_server: Server) -> None:
    _, seeded = live_server
    run_id = seeded.artifact_run_id
    ui.open(f"/runs/{run_id}/artifacts?path=model")
    ui.page.click("#register-model")
    ui.page.check("#register-form input[name=into][value=new]")
    ui.page.fill("#register-name", "browser-registered")
    ui.page.click("#register-form button[type=submit]")
    ui.page.wait_for_selector("#registered-version")
    assert ui.page.locator("#registered-version").inner_text() == "version 1"
    ui.screenshot("register-model")
    # Again, into the model now existing (the form offers it).
    assert ui.page.locator("#register-existing").input_value() == "browser-registered"
    ui.page.click("#register-form button[type=submit]")
    ui.page.wait_for_function(
        "document.querySelector('#registered-version')?.textContent === 'version 2'"
    )
    versions = _twin(live_server, "/models/browser-registered")["versions"]
    assert [v["version"] for v in versions] == ["2", "1"]
    with ui.page.expect_navigation():
        ui.page.click("#registered-version")
    assert ui.page.url.endswith("/models/browser-registered/versions/2")
    assert ui.page.locator("#source-run").get_attribute("href") == f"/runs/{run_id}"
    assert "age" in ui.page.locator("#signature").inner_text()


def test_a_transition_with_archive_shows_on_the_page_and_in_the_trail(
    ui: BrowserPage, live_server: Server
) -> None:
    _register(live_server, "staged-model", 2)
    base = "/models/staged-model/versions"
    ui.open(f"{base}/1")
    ui.page.select_option("#stage-select", "Production")
    with ui.page.expect_navigation():
        ui.page.click("#transition")
    assert ui.page.locator("#current-stage").inner_text() == "Production"
    ui.open(f"{base}/2")
    ui.page.select_option("#stage-select", "Archived")
    assert ui.page.locator("#archive-existing").is_disabled()  # Staging/Production only
    ui.page.select_option("#stage-select", "Production")
    ui.page.check("#archive-existing")
    with ui.page.expect_navigation():
        ui.page.click("#transition")
    assert ui.page.locator("#current-stage").inner_text() == "Production"
    ui.open(f"{base}/1")
    assert ui.page.locator("#current-stage").inner_text() == "Archived"
    rows = ui.page.locator("#audit-table tbody tr[data-action=transition_model_version_stage]")
    moves = [
        (row.locator(".audit-from").inner_text(), row.locator(".audit-to").inner_text())
        for row in rows.all()
    ]
    assert moves == [("Production", "Archived"), ("None", "Production")]
    ui.screenshot("model-version")
    ui.page.locator("#audit-trail").scroll_into_view_if_needed()
    ui.screenshot("model-version-audit")
    ui.open("/models/staged-model")
    trail = ui.page.locator("#audit-table").inner_text()
    assert "Archived" in trail


def test_aliases_are_set_and_moved(ui: BrowserPage, live_server: Server) -> None:
    _register(live_server, "aliased-model", 2)
    _post(live_server, "/models/aliased-model/description", {"text": f"Scores {SCRIPT}"})
    ui.open("/models/aliased-model")
    ui.page.fill("#alias-form input[name=alias]", "champion")
    ui.page.select_option("#alias-form select[name=version]", "1")
    with ui.page.expect_navigation():
        ui.page.click("#alias-form button[type=submit]")
    row = ui.page.locator("#aliases-table tr[data-alias=champion]")
    assert row.get_attribute("data-version") == "1"
    assert ui.page.locator("#description-text").inner_text() == f"Scores {SCRIPT}"
    ui.open("/models/aliased-model/versions/2")
    ui.page.fill("#alias-form input[name=alias]", "champion")
    with ui.page.expect_navigation():
        ui.page.click("#alias-form button[type=submit]")
    assert "@champion" in ui.page.locator("#version-aliases").inner_text()
    assert ui.page.locator(".alias-uri").all_inner_texts() == ["models:/aliased-model@champion"]
    ui.open("/models/aliased-model")
    assert (
        ui.page.locator("#aliases-table tr[data-alias=champion]").get_attribute("data-version")
        == "2"
    )
    versions = ui.page.locator("#versions-table tbody tr")
    assert "@champion" in versions.nth(0).inner_text()  # version 2, newest first
    assert "@champion" not in versions.nth(1).inner_text()
    ui.screenshot("model")


def test_the_models_list_searches(ui: BrowserPage, live_server: Server) -> None:
    _register(live_server, "listed-model", 1)
    _post(live_server, "/models/create", {"name": "another-listed", "description": "Empty."})
    ui.open("/models")
    names = ui.page.locator("#models-table tbody td.name a").all_inner_texts()
    assert {"listed-model", "another-listed"} <= set(names)
    ui.screenshot("models")
    ui.page.fill("#model-search", "another")
    with ui.page.expect_navigation():
        ui.page.press("#model-search", "Enter")
    names = ui.page.locator("#models-table tbody td.name a").all_inner_texts()
    assert names == ["another-listed"]
    ui.page.click("nav a:has-text('Experiments')")
    ui.page.wait_for_selector("#experiments-table")


def test_a_logged_model_is_registered_from_the_run_page(
    ui: BrowserPage, live_server: Server
) -> None:
    url, seeded = live_server
    run_id = seeded.run_ids[5]
    experiment_id = seeded.experiment_id
    created = httpx.post(
        f"{url}/api/2.0/mlflow/logged-models",
        json={"experiment_id": experiment_id, "name": "net", "source_run_id": run_id},
        timeout=30,
    )
    assert created.status_code == 200, created.text
    model_id = created.json()["model"]["info"]["model_id"]
    outputs = httpx.post(
        f"{url}/api/2.0/mlflow/runs/outputs",
        json={"run_id": run_id, "models": [{"model_id": model_id, "step": 0}]},
        timeout=30,
    )
    assert outputs.status_code == 200, outputs.text
    ui.open(f"/runs/{run_id}")
    ui.page.click(f"#logged-models-table tr[data-model-id='{model_id}'] button[data-register]")
    ui.page.check("#register-form input[name=into][value=new]")
    ui.page.fill("#register-name", "logged-net")
    ui.page.click("#register-form button[type=submit]")
    ui.page.wait_for_selector("#registered-version")
    assert ui.page.locator("#registered-version").inner_text() == "version 1"
    version = _twin(live_server, "/models/logged-net/versions/1")["version"]
    assert version["source"] == f"models:/{model_id}"
    ui.open(f"/runs/{run_id}")
    registered = ui.page.locator(f"#logged-models-table tr[data-model-id='{model_id}']")
    assert "logged-net v1" in registered.inner_text()
