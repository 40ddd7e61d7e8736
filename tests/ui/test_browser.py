"""The UI in a real browser: Debian's Chromium, headless, against ``trackline ui`` on the
seeded store. Every page must render without a console error (the ``ui`` fixture checks);
each test saves a screenshot of its page to ``docs/screenshots/`` (shown in docs/ui.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
from tests.ui.conftest import BrowserPage
from tests.ui.seed import SCRIPT, SPIKE_VALUE, Seeded

import trackline

Server = tuple[str, Seeded]


def _rows(ui: BrowserPage) -> list[str]:
    ids: list[str] = ui.page.eval_on_selector_all(
        "#runs-table tbody tr[data-run-id]", "rows => rows.map(r => r.dataset.runId)"
    )
    return ids


def _twin(server: Server, path: str, **params: Any) -> Any:
    url, _ = server
    response = httpx.get(f"{url}/ui-api{path}", params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_plotly_is_served_gzipped(live_server: Server) -> None:
    url, _ = live_server
    raw = httpx.get(f"{url}/static/vendor/plotly.min.js", headers={"Accept-Encoding": "identity"})
    packed = httpx.get(f"{url}/static/vendor/plotly.min.js")  # httpx accepts gzip
    assert packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) < len(raw.content) / 2
    assert packed.content == raw.content


def test_experiments_page_lists_and_searches(ui: BrowserPage) -> None:
    ui.open("/")
    names = ui.page.locator("#experiments-table tbody td.name a").all_inner_texts()
    assert "diabetes-experiment" in names
    assert "old-experiment" not in names  # deleted: only in the deleted view
    ui.screenshot("experiments")
    ui.page.fill("#experiment-search", "diabetes")
    ui.page.press("#experiment-search", "Enter")
    ui.page.wait_for_url("**q=diabetes**")
    names = ui.page.locator("#experiments-table tbody td.name a").all_inner_texts()
    assert names == ["diabetes-experiment"]


def test_runs_table_shows_columns_and_nested_runs(ui: BrowserPage, live_server: Server) -> None:
    _, seeded = live_server
    ui.open(f"/experiments/{seeded.experiment_id}")
    headers = ui.page.locator("#runs-table thead th").all_inner_texts()
    assert any("rmse" in h for h in headers)
    assert any("Duration" in h for h in headers)
    rows = _rows(ui)
    assert len(rows) == len(seeded.run_ids)
    parent = seeded.parent_ids[1]
    children = ui.page.eval_on_selector_all(
        f"tr[data-parent-id='{parent}']", "rows => rows.map(r => r.dataset.runId)"
    )
    assert len(children) == 3
    start = rows.index(parent)
    assert rows[start + 1 : start + 4] == children  # grouped right under their parent
    ui.screenshot("runs-table")
    ui.page.click(f"tr[data-run-id='{parent}'] button.toggle")
    assert not ui.page.locator(f"tr[data-run-id='{children[0]}']").is_visible()
    ui.page.click(f"tr[data-run-id='{parent}'] button.toggle")
    assert ui.page.locator(f"tr[data-run-id='{children[0]}']").is_visible()


def test_the_filter_narrows_the_table(ui: BrowserPage, live_server: Server) -> None:
    _, seeded = live_server
    path = f"/experiments/{seeded.experiment_id}"
    ui.open(path)
    everything = _rows(ui)
    text = "params.model = 'tree' OR metrics.r2 < 0.6"
    ui.page.fill("#filter-input", text)
    ui.page.press("#filter-input", "Enter")
    ui.page.wait_for_url("**filter=**")
    narrowed = _rows(ui)
    assert 0 < len(narrowed) < len(everything)
    twin = _twin(live_server, path, filter=text)
    assert narrowed == [row["run_id"] for row in twin["rows"]]
    ui.page.wait_for_function("document.getElementById('run-total').textContent !== ''")
    assert ui.page.locator("#run-total").inner_text() == f"of {twin['total']}"
    ui.screenshot("runs-filtered")


def test_a_bad_filter_shows_its_error_inline(ui: BrowserPage, live_server: Server) -> None:
    _, seeded = live_server
    ui.open(f"/experiments/{seeded.experiment_id}")
    ui.page.fill("#filter-input", "metrics.rmse < and")
    ui.page.press("#filter-input", "Enter")
    ui.page.wait_for_url("**filter=**")
    error = ui.page.locator("#filter-error")
    assert "position 15" in error.inner_text()
    assert error.locator("pre.caret").inner_text().splitlines()[1] == " " * 15 + "^"
    assert _rows(ui) == []


def test_sorting_by_a_metric_reorders_the_table(ui: BrowserPage, live_server: Server) -> None:
    _, seeded = live_server
    path = f"/experiments/{seeded.experiment_id}"
    ui.open(path)
    before = _rows(ui)
    ui.page.click("th[data-column='metrics.rmse'] a")
    ui.page.wait_for_url("**sort=metrics.rmse**")
    after = _rows(ui)
    assert after != before
    assert sorted(after) == sorted(before)
    twin = _twin(live_server, path, sort="metrics.rmse", dir="asc")
    rmse = {row["run_id"]: row["values"]["metrics.rmse"] for row in twin["rows"]}
    values = [rmse[run_id] for run_id in after if rmse[run_id] is not None]
    # nested children follow their parent; among the top-level runs the order is ascending
    top = [rmse[r["run_id"]] for r in twin["rows"] if r["depth"] == 0 and rmse[r["run_id"]]]
    assert top == sorted(top)
    assert len(values) > 10
    ui.page.click("th[data-column='metrics.rmse'] a")  # again: descending
    ui.page.wait_for_url("**dir=desc**")
    assert _rows(ui) != after


def test_the_column_picker_changes_the_columns(ui: BrowserPage, live_server: Server) -> None:
    _, seeded = live_server
    ui.open(f"/experiments/{seeded.experiment_id}")
    ui.page.click("#column-picker summary")
    ui.page.uncheck("#column-picker input[value='metrics.rmse']")
    ui.page.check("#column-picker input[value='tags.team']")
    ui.page.click("#apply-columns")
    ui.page.wait_for_url("**col=**")
    columns = ui.page.eval_on_selector_all(
        "#runs-table thead th[data-column]", "ths => ths.map(t => t.dataset.column)"
    )
    assert "tags.team" in columns
    assert "metrics.rmse" not in columns


def test_the_model_size_column_is_picked_and_shown(
    ui: BrowserPage, live_server: Server, log_to: Callable[[str], None]
) -> None:
    from sklearn.linear_model import LinearRegression

    url, _ = live_server
    log_to(url)  # through the server's REST API, as an MLflow client logs
    experiment_id = trackline.set_experiment("browser-model-sizes").experiment_id
    x = np.arange(40.0).reshape(20, 2)
    with trackline.start_run(run_name="with-model") as run:
        trackline.sklearn.log_model(LinearRegression().fit(x, x @ [1.0, 2.0]), name="model")
        with_model = run.info.run_id
    with trackline.start_run(run_name="without-model") as run:
        trackline.log_metric("rmse", 1.0)
        without_model = run.info.run_id
    ui.open(f"/experiments/{experiment_id}")
    ui.page.click("#column-picker summary")
    ui.page.check("#column-picker input[value='attributes.model_size']")
    ui.page.click("#apply-columns")
    ui.page.wait_for_url("**col=attributes.model_size**")
    header = ui.page.locator("#runs-table th[data-column='attributes.model_size']")
    assert header.inner_text().strip() == "Model size"
    assert header.locator("a").count() == 0  # not sortable: no sort link
    columns = ui.page.eval_on_selector_all(
        "#runs-table thead th[data-column]", "ths => ths.map(t => t.dataset.column)"
    )
    at = columns.index("attributes.model_size") + 1  # the checkbox cell has no data-column
    twin = _twin(live_server, f"/experiments/{experiment_id}", col=columns)
    size = next(r["model_size"] for r in twin["rows"] if r["run_id"] == with_model)
    assert size > 0
    cell = ui.page.locator(f"tr[data-run-id='{with_model}'] td").nth(at)
    assert cell.get_attribute("title") == f"{size:,} bytes"
    assert cell.inner_text().endswith(("B", "KiB", "MiB"))
    assert ui.page.locator(f"tr[data-run-id='{without_model}'] td").nth(at).inner_text() == ""


def _traces(ui: BrowserPage) -> int:
    count: int = ui.page.evaluate("document.getElementById('metric-chart').data.length")
    return count


def _wait_for_traces(ui: BrowserPage, count: int) -> None:
    ui.page.wait_for_function(
        f"(document.getElementById('metric-chart').data || []).length === {count}"
    )


def test_runs_and_metrics_are_added_to_the_chart_and_removed(
    ui: BrowserPage, live_server: Server
) -> None:
    _, seeded = live_server
    first, second = seeded.run_ids[5], seeded.run_ids[6]
    ui.open(f"/runs/{first}/metrics/rmse")
    ui.page.wait_for_selector("#metric-chart .scatterlayer .trace")
    assert _traces(ui) == 1
    ui.page.fill("#run-search", "run-06")
    ui.page.wait_for_function(
        "[...document.querySelectorAll('#add-run option')].map(o => o.value).join(',')"
        f" === ',{second}'"
    )
    ui.page.select_option("#add-run", second)
    _wait_for_traces(ui, 2)
    assert f"run={second}" in ui.page.url
    assert ui.page.locator("#run-chips li a").all_inner_texts() == ["run-05", "run-06"]
    legend = ui.page.locator("#metric-chart .legend .legendtext").all_text_contents()
    assert legend == ["run-05", "run-06"]
    ui.page.select_option("#add-metric", "mae")
    _wait_for_traces(ui, 4)  # two runs times two metrics
    assert "metric=mae" in ui.page.url
    assert ui.page.locator("#series-rows tr").count() == 4
    assert ui.page.locator("#chart-title").inner_text() == "rmse, mae"
    ui.screenshot("metric-chart-overlay")
    shared = ui.page.url.removeprefix(ui.base_url)
    ui.open(shared)  # the address alone draws the same chart
    ui.page.wait_for_selector("#metric-chart .scatterlayer .trace")
    assert _traces(ui) == 4
    ui.page.click(f"#run-chips button[data-remove-run='{first}']")
    _wait_for_traces(ui, 2)
    assert f"/runs/{second}/metrics/rmse" in ui.page.url  # the next run leads now
    assert ui.page.locator("nav.crumbs a").all_inner_texts()[-1] == "run-06"
    ui.page.click("#metric-chips button[data-remove-metric='rmse']")
    _wait_for_traces(ui, 1)
    assert ui.page.locator("#metric-chips li span").all_inner_texts() == ["mae"]
    assert ui.page.locator("#metric-chips button").is_disabled()  # the last one stays
    ui.page.go_back()  # to one run and two metrics again
    _wait_for_traces(ui, 2)
    assert ui.page.url.endswith(f"/runs/{second}/metrics/rmse?metric=mae")
    assert ui.page.locator("#metric-chips li span").all_inner_texts() == ["rmse", "mae"]


def test_the_chart_run_picker_shows_names_as_text(ui: BrowserPage, live_server: Server) -> None:
    _, seeded = live_server
    dialogs: list[str] = []
    ui.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    ui.open(f"/runs/{seeded.run_ids[0]}/metrics/rmse")
    ui.page.fill("#run-search", "<b>")
    option = f"#add-run option[value='{seeded.script_run_id}']"
    ui.page.wait_for_selector(option, state="attached")
    assert ui.page.locator(option).inner_text().startswith("<b>bold</b> run")
    ui.page.select_option("#add-run", seeded.script_run_id)
    ui.page.wait_for_selector(f"#run-chips li[data-run-id='{seeded.script_run_id}']")
    chip = ui.page.locator(f"#run-chips li[data-run-id='{seeded.script_run_id}'] a")
    assert chip.inner_text() == "<b>bold</b> run"
    assert ui.page.locator("#series-picker b, #series-table b").count() == 0
    assert dialogs == []


def test_the_run_page_shows_a_script_tag_as_text(ui: BrowserPage, live_server: Server) -> None:
    _, seeded = live_server
    dialogs: list[str] = []
    ui.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    ui.open(f"/runs/{seeded.script_run_id}")
    assert ui.page.locator("#tags-table tr[data-key='note'] .tag-value").inner_text() == SCRIPT
    assert ui.page.locator("#params-table").inner_text().count(SCRIPT) == 1
    assert ui.page.locator("#run-name").inner_text() == "<b>bold</b> run"
    assert ui.page.locator("#run-name b").count() == 0
    assert dialogs == []


def test_the_run_page_overview(ui: BrowserPage, live_server: Server) -> None:
    _, seeded = live_server
    parent = seeded.parent_ids[1]
    ui.open(f"/runs/{parent}")
    assert ui.page.locator("#child-runs li").count() == 3
    assert ui.page.locator("#metrics-table a", has_text="rmse").count() == 1
    ui.screenshot("run")
    ui.page.click("#child-runs li a >> nth=0")
    ui.page.wait_for_selector("#parent-link")
    assert ui.page.locator("#parent-link").get_attribute("href") == f"/runs/{parent}"


def test_tags_and_description_can_be_edited(ui: BrowserPage, live_server: Server) -> None:
    _, seeded = live_server
    run_id = seeded.artifact_run_id
    ui.open(f"/runs/{run_id}")
    ui.page.fill("#tag-form input[name=key]", "stage")
    ui.page.fill("#tag-form input[name=value]", "candidate")
    with ui.page.expect_navigation():
        ui.page.click("#tag-form button[type=submit]")
    assert (
        ui.page.locator("#tags-table tr[data-key='stage'] .tag-value").inner_text() == "candidate"
    )
    ui.page.click("#edit-description")
    ui.page.fill("#description textarea", "Trained on the diabetes data.")
    with ui.page.expect_navigation():
        ui.page.click("#description button[type=submit]")
    assert ui.page.locator("#description-text").inner_text() == "Trained on the diabetes data."
    ui.page.once("dialog", lambda dialog: dialog.accept())
    with ui.page.expect_navigation():
        ui.page.click("#tags-table tr[data-key='stage'] button[data-action='delete-tag']")
    assert ui.page.locator("#tags-table tr[data-key='stage']").count() == 0


def test_the_artifact_browser_previews_files(ui: BrowserPage, live_server: Server) -> None:
    _, seeded = live_server
    run_id = seeded.artifact_run_id
    ui.open(f"/runs/{run_id}/artifacts?path=model")
    model = ui.page.locator("#model-view")
    assert ui.page.locator("#model-uri").inner_text() == f"runs:/{run_id}/model"
    assert "age" in model.locator("#model-signature").inner_text()
    code = model.locator("pre.code").all_inner_texts()
    assert any("mlflow.pyfunc.load_model(logged_model)" in c for c in code)
    assert any("mlflow.sklearn.load_model(logged_model)" in c for c in code)
    assert any("mlflow.pyfunc.spark_udf(spark" in c for c in code)
    ui.screenshot("artifacts-model")
    ui.open(f"/runs/{run_id}/artifacts?path=data/sample.csv")
    assert ui.page.locator("#preview-table tbody tr").count() == 3
    ui.open(f"/runs/{run_id}/artifacts?path=notes.txt")
    assert SCRIPT in ui.page.locator("#preview-text").inner_text()
    ui.open(f"/runs/{run_id}/artifacts?path=curve.png")
    ui.page.wait_for_function("document.querySelector('.preview-image').complete")
    width = ui.page.eval_on_selector(".preview-image", "img => img.naturalWidth")
    assert width == 240
    ui.screenshot("artifacts-image")


def test_a_long_metric_draws_downsampled_with_its_spike(
    ui: BrowserPage, live_server: Server
) -> None:
    _, seeded = live_server
    path = f"/runs/{seeded.long_run_id}/metrics/loss"
    ui.open(path)
    ui.page.wait_for_selector("#metric-chart .scatterlayer .trace")
    assert int(ui.page.evaluate("Plotly.version").split(".")[0]) >= 2
    drawn = ui.page.evaluate("document.getElementById('metric-chart').data[0].y")
    assert max(v for v in drawn if v is not None) == SPIKE_VALUE
    ui.page.check("#log-scale")
    axis = ui.page.evaluate("document.getElementById('metric-chart').layout.yaxis.type")
    assert axis == "log"
    ui.page.check("input[name=x][value=relative]")
    ui.page.fill("#smoothing", "0.6")
    ui.page.dispatch_event("#smoothing", "input")
    assert ui.page.evaluate("document.getElementById('metric-chart').data.length") == 2
    ui.screenshot("metric-chart")
    twin = _twin(live_server, path, buckets=100)
    assert twin["series"][0]["sampled"]
    assert len(twin["series"][0]["value"]) <= 200
    assert SPIKE_VALUE in twin["series"][0]["value"]


def test_compare_draws_parallel_coordinates_scatter_and_contour(
    ui: BrowserPage, live_server: Server
) -> None:
    _, seeded = live_server
    ui.open(f"/experiments/{seeded.experiment_id}")
    for run_id in seeded.run_ids[4:12]:
        ui.page.check(f"tr[data-run-id='{run_id}'] input.row-select")
    assert ui.page.locator("#compare-selected").inner_text() == "Compare (8)"
    ui.page.click("#compare-selected")
    ui.page.wait_for_url("**/compare?runs=**")
    ui.page.wait_for_load_state("networkidle")
    assert ui.page.locator("#compare-table thead th a").count() == 8
    assert ui.page.locator("#parallel-chart .parcoords").count() == 1
    assert ui.page.locator("#parallel-chart .parcoords .axis").count() >= 4
    assert ui.page.locator("#scatter-chart .scatterlayer .point").count() == 8
    assert ui.page.locator("#contour-chart .contourlayer .contour").count() == 1
    assert ui.page.locator("#box-chart .boxlayer .trace").count() == 1
    ui.page.wait_for_selector("#history-chart .scatterlayer .trace")
    assert ui.page.locator("#history-chart .scatterlayer .trace").count() == 8
    ui.page.check("#diff-only")
    same = ui.page.locator("#compare-table tr.same").first
    assert not same.is_visible() if same.count() else True
    ui.page.set_viewport_size({"width": 1280, "height": 1400})
    ui.screenshot("compare")


def test_experiments_are_created_renamed_deleted_and_restored(ui: BrowserPage) -> None:
    ui.open("/")
    ui.page.click("#new-experiment")
    ui.page.fill("#create-form input[name=name]", "browser-made")
    with ui.page.expect_navigation():
        ui.page.click("#create-form button[type=submit]")
    assert ui.page.locator("h1").inner_text() == "browser-made"
    ui.open("/")
    row = ui.page.locator("#experiments-table tr[data-name='browser-made']")
    ui.page.once("dialog", lambda dialog: dialog.accept("browser-renamed"))
    with ui.page.expect_navigation():
        row.locator("button[data-action=rename]").click()
    row = ui.page.locator("#experiments-table tr[data-name='browser-renamed']")
    ui.page.once("dialog", lambda dialog: dialog.accept())
    with ui.page.expect_navigation():
        row.locator("button[data-action=delete]").click()
    assert ui.page.locator("#experiments-table tr[data-name='browser-renamed']").count() == 0
    ui.open("/?view=deleted")
    with ui.page.expect_navigation():
        ui.page.locator(
            "#experiments-table tr[data-name='browser-renamed'] button[data-action=restore]"
        ).click()
    ui.open("/")
    assert ui.page.locator("#experiments-table tr[data-name='browser-renamed']").count() == 1
