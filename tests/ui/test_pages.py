"""Every page and its JSON twin, in process: what they show, and that they escape it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.ui.seed import SCRIPT, SPIKE_VALUE, Seeded

from trackline.ui.rendering import CONTENT_SECURITY_POLICY

Client = tuple[httpx.Client, Seeded]


def _twin(client: httpx.Client, path: str, **params: Any) -> Any:
    response = client.get(f"/ui-api{path}", params=params or None)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def _html(client: httpx.Client, path: str, **params: Any) -> str:
    response = client.get(path, params=params or None)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    return response.text


def test_every_page_has_a_json_twin(ui_client: Client) -> None:
    client, seeded = ui_client
    pages = [
        "/",
        f"/experiments/{seeded.experiment_id}",
        f"/runs/{seeded.artifact_run_id}",
        f"/runs/{seeded.artifact_run_id}/artifacts",
        f"/runs/{seeded.long_run_id}/metrics/loss",
        f"/compare?runs={seeded.run_ids[0]},{seeded.run_ids[1]}",
    ]
    for page in pages:
        assert client.get(page).status_code == 200, page
        assert isinstance(client.get(f"/ui-api{page}").json(), dict), page


def test_the_experiments_list_searches_by_name_or_filter(ui_client: Client) -> None:
    client, _ = ui_client
    names = [e["name"] for e in _twin(client, "/")["experiments"]]
    assert names == ["empty-experiment", "diabetes-experiment", "Default"]
    found = _twin(client, "/", q="DIABETES")["experiments"]
    assert [e["name"] for e in found] == ["diabetes-experiment"]
    assert found[0]["runs"] == 51
    assert [e["name"] for e in _twin(client, "/", q="name LIKE 'empty%'")["experiments"]] == [
        "empty-experiment"
    ]
    deleted = _twin(client, "/", view="deleted")["experiments"]
    assert [e["name"] for e in deleted] == ["old-experiment"]
    error = _twin(client, "/", q="name = ")["error"]
    assert error["position"] == 6  # in the text as shown (stripped)


def test_the_runs_table_pages_in_sql(ui_client: Client) -> None:
    client, seeded = ui_client
    path = f"/experiments/{seeded.experiment_id}"
    first = _twin(client, path, limit=20)
    assert first["total"] == 51
    assert len(first["rows"]) == 20
    assert first["links"]["next"]
    assert first["links"]["prev"] is None
    second = _twin(client, path, limit=20, offset=20)
    assert not {r["run_id"] for r in first["rows"]} & {r["run_id"] for r in second["rows"]}
    last = _twin(client, path, limit=20, offset=40)
    assert len(last["rows"]) == 11
    assert last["links"]["next"] is None


def test_the_page_leaves_the_count_to_its_script(ui_client: Client) -> None:
    client, seeded = ui_client
    path = f"/experiments/{seeded.experiment_id}"
    page = _html(client, path, filter="tags.team = 'vision'")
    url = f"/ui-api{path}/count?filter=tags.team+%3D+%27vision%27"
    assert f'data-count-url="{url.replace("&", "&amp;")}"' in page
    assert client.get(url).json() == {"total": 24}  # 48 runs, every other one
    assert client.get(f"/ui-api{path}/count", params={"view": "deleted"}).json() == {"total": 0}
    bad = client.get(f"/ui-api{path}/count", params={"filter": "metrics.x <"})
    assert bad.status_code == 400


def test_the_runs_table_filters_with_or_and_reports_errors(ui_client: Client) -> None:
    client, seeded = ui_client
    path = f"/experiments/{seeded.experiment_id}"
    data = _twin(client, path, filter="params.model = 'tree' OR tags.team = 'vision'")
    assert data["error"] is None
    for row in data["rows"]:
        values = row["values"]
        assert values["params.model"] == "tree" or row["run_id"] in _vision(client, path)
    bad = _twin(client, path, filter="metrics.rmse <")
    assert bad["rows"] == []
    assert bad["error"]["position"] == 14
    assert "position 14" in bad["error"]["message"]
    page = _html(client, path, filter="metrics.rmse <")
    assert 'id="filter-error"' in page


def _vision(client: httpx.Client, path: str) -> set[str]:
    rows = _twin(client, path, filter="tags.team = 'vision'")["rows"]
    return {row["run_id"] for row in rows}


@pytest.mark.parametrize(
    ("column", "key"),
    [("metrics.rmse", "metrics.rmse"), ("params.max_depth", "params.max_depth")],
)
def test_the_runs_table_sorts_on_any_column(ui_client: Client, column: str, key: str) -> None:
    client, seeded = ui_client
    path = f"/experiments/{seeded.experiment_id}"
    for direction in ("asc", "desc"):
        data = _twin(client, path, sort=column, dir=direction, col=[column])
        assert data["sort"] == {"column": column, "dir": direction}
        top = [r["values"][key] for r in data["rows"] if r["depth"] == 0]
        present = [v for v in top if v is not None]
        assert present == sorted(present, reverse=direction == "desc")
        assert top[len(present) :] == [None] * (len(top) - len(present))  # missing values last


def test_the_runs_table_sorts_by_duration(ui_client: Client) -> None:
    client, seeded = ui_client
    path = f"/experiments/{seeded.experiment_id}"
    data = _twin(client, path, sort="attributes.duration", dir="desc")
    durations = [r["duration"] for r in data["rows"] if r["depth"] == 0]
    known = [d for d in durations if d is not None]
    assert known == sorted(known, reverse=True)
    assert len(known) >= 30
    assert durations[len(known) :] == [None] * (len(durations) - len(known))


def test_nested_runs_are_grouped_under_their_parent(ui_client: Client) -> None:
    client, seeded = ui_client
    rows = _twin(client, f"/experiments/{seeded.experiment_id}")["rows"]
    order = [r["run_id"] for r in rows]
    for parent in seeded.parent_ids[1:]:
        at = order.index(parent)
        assert rows[at]["children"] == 3
        assert [r["depth"] for r in rows[at + 1 : at + 4]] == [1, 1, 1]
        assert {r["parent_id"] for r in rows[at + 1 : at + 4]} == {parent}


def test_the_column_picker_lists_every_key(ui_client: Client) -> None:
    client, seeded = ui_client
    data = _twin(client, f"/experiments/{seeded.experiment_id}", col=["tags.team", "bogus"])
    assert data["available"]["metrics"] == ["loss", "mae", "r2", "rmse"]
    assert data["available"]["params"] == ["alpha", "max_depth", "model"]
    assert "team" in data["available"]["tags"]
    assert [c["id"] for c in data["columns"]] == ["tags.team"]
    empty = _twin(client, f"/experiments/{seeded.empty_experiment_id}")
    assert empty["available"]["metrics"] == []
    assert empty["rows"] == []


def test_user_text_is_escaped_everywhere(ui_client: Client) -> None:
    client, seeded = ui_client
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for path in (
        f"/experiments/{seeded.experiment_id}?col=tags.note&col=params.model",
        f"/runs/{seeded.script_run_id}",
        f"/runs/{seeded.artifact_run_id}/artifacts?path=notes.txt",
        f"/compare?runs={seeded.script_run_id},{seeded.run_ids[0]}",
    ):
        page = _html(client, path)
        assert SCRIPT not in page, path
        assert escaped in page or "\\u003cscript\\u003e" in page, path
    run_page = _html(client, f"/runs/{seeded.script_run_id}")
    assert "&lt;b&gt;bold&lt;/b&gt; run" in run_page
    assert "<b>bold</b>" not in run_page


def test_the_run_page_shows_the_run(ui_client: Client) -> None:
    client, seeded = ui_client
    parent = seeded.parent_ids[1]
    data = _twin(client, f"/runs/{parent}")
    assert data["run"]["status"] == "FINISHED"
    assert data["run"]["duration"] > 0
    assert data["run"]["source"]["name"] == "train.py"
    assert len(data["children"]) == 3
    assert {m["key"] for m in data["metrics"]} == {"rmse", "mae", "r2"}
    assert data["metrics"][0]["url"].startswith(f"/runs/{parent}/metrics/")
    assert [t["key"] for t in data["tags"]] == ["team"]
    child = _twin(client, f"/runs/{seeded.child_ids[0]}")
    assert child["parent"]["run_id"] == seeded.parent_ids[0]


def test_metric_histories_are_downsampled_keeping_the_spike(ui_client: Client) -> None:
    client, seeded = ui_client
    data = _twin(client, f"/runs/{seeded.long_run_id}/metrics/loss", buckets=50)
    series = data["series"][0]
    assert series["total"] == 5000
    assert series["sampled"]
    assert len(series["value"]) <= 100
    assert max(series["value"]) == SPIKE_VALUE
    several = _twin(
        client,
        f"/runs/{seeded.run_ids[0]}/metrics/rmse",
        run=seeded.run_ids[1:4],
        metric="mae",
    )
    assert len(several["series"]) == 8
    assert {s["key"] for s in several["series"]} == {"rmse", "mae"}
    assert several["series"][0]["total"] == 20
    assert not several["series"][0]["sampled"]


def test_compare_marks_the_values_that_differ(ui_client: Client) -> None:
    client, seeded = ui_client
    runs = ",".join(seeded.run_ids[4:8])
    data = _twin(client, "/compare", runs=runs)
    assert [r["run_id"] for r in data["runs"]] == seeded.run_ids[4:8]
    by_key = {row["key"]: row for row in data["params"]}
    assert by_key["model"]["differs"]
    assert data["numeric_params"] == ["alpha", "max_depth"]
    assert data["metric_keys"] == ["mae", "r2", "rmse"]
    assert "__KEY__" in data["history_url"]


def test_missing_things_are_404_pages(ui_client: Client) -> None:
    client, _seeded = ui_client
    for path in ("/runs/0123456789abcdef0123456789abcdef", "/experiments/999"):
        page = client.get(path)
        assert page.status_code == 404
        assert "RESOURCE_DOES_NOT_EXIST" in page.text
        twin = client.get(f"/ui-api{path}")
        assert twin.status_code == 404
        assert twin.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert client.get("/compare").status_code == 400


def test_static_files_and_plotly_are_served(ui_client: Client) -> None:
    client, _ = ui_client
    page = _html(client, "/")
    assert "/static/ui/css/app.css?v=" in page
    plotly = client.get("/static/vendor/plotly.min.js", headers={"Accept-Encoding": "identity"})
    assert plotly.status_code == 200
    assert plotly.headers["content-type"].startswith("text/javascript")
    assert "immutable" in plotly.headers["cache-control"]
    assert plotly.text.startswith("/**")
    assert "plotly.js" in plotly.text[:200]
    assert client.get("/static/ui/js/runs_table.js").status_code == 200
    assert client.get("/static/ui/../rendering.py").status_code == 404


def test_the_chart_run_picker_finds_runs_by_name(ui_client: Client) -> None:
    client, seeded = ui_client
    path = f"/ui-api/experiments/{seeded.experiment_id}/runs"
    newest = _json(client, path)["runs"]
    assert len(newest) == 20
    assert newest[0]["run_id"] == seeded.long_run_id  # newest first
    found = _json(client, path, q="RUN-0")["runs"]  # any case, anywhere in the name
    assert sorted(r["name"] for r in found) == [f"run-0{i}" for i in range(10)]
    assert [r["name"] for r in _json(client, path, q="<b>")["runs"]] == ["<b>bold</b> run"]
    assert _json(client, path, q="run_0")["runs"] == []  # "_" is no wildcard
    by_id = _json(client, path, q=seeded.run_ids[3])["runs"]
    assert [r["run_id"] for r in by_id] == [seeded.run_ids[3]]
    assert len(_json(client, path, limit=5)["runs"]) == 5
    chart = _twin(client, f"/runs/{seeded.run_ids[0]}/metrics/rmse")
    assert chart["run_search_url"] == path
    assert [r["experiment_id"] for r in chart["runs"]] == [seeded.experiment_id]


def _json(client: httpx.Client, path: str, **params: Any) -> Any:
    response = client.get(path, params=params or None)
    assert response.status_code == 200, response.text
    return response.json()
