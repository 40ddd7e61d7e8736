"""``metrics/get-history`` on both prefixes."""

from __future__ import annotations

from ..conftest import Api


def _log(api: Api, run_id: str, points: list[tuple[object, int, int]]) -> None:
    metrics = [{"key": "loss", "value": v, "timestamp": t, "step": s} for v, t, s in points]
    api.ok("POST", "runs/log-batch", {"run_id": run_id, "metrics": metrics})


def test_history_in_order_with_special_values(api: Api) -> None:
    run_id = api.run()
    _log(api, run_id, [(0.5, 20, 2), ("NaN", 10, 1), (0.75, 30, 3)])
    history = api.ok("GET", "metrics/get-history",
                     {"run_id": run_id, "run_uuid": run_id, "metric_key": "loss"})  # fmt: skip
    assert [(m["value"], m["timestamp"], m["step"]) for m in history["metrics"]] == [
        ("NaN", 10, 1), (0.5, 20, 2), (0.75, 30, 3)
    ]  # fmt: skip
    assert "next_page_token" not in history


def test_history_pages(api: Api) -> None:
    run_id = api.run()
    _log(api, run_id, [(float(i), i, i) for i in range(5)])
    seen: list[float] = []
    query = {"run_id": run_id, "metric_key": "loss", "max_results": 2}
    pages = 0
    while True:
        page = api.ok("GET", "metrics/get-history", query)
        seen += [m["value"] for m in page["metrics"]]
        pages += 1
        if "next_page_token" not in page:
            break
        query["page_token"] = page["next_page_token"]
    assert seen == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert pages == 3


def test_history_of_unknown_run_or_key_is_empty(api: Api) -> None:
    assert api.ok("GET", "metrics/get-history", {"run_id": "a" * 32, "metric_key": "x"}) == {}
    run_id = api.run()
    assert api.ok("GET", "metrics/get-history", {"run_id": run_id, "metric_key": "x"}) == {}


def test_history_errors(api: Api) -> None:
    run_id = api.run()
    for query in (
        {"run_id": run_id},
        {"metric_key": "loss"},
        {"run_id": run_id, "metric_key": "loss", "max_results": 0},
        {"run_id": run_id, "metric_key": "loss", "max_results": "many"},
    ):
        api.fail("GET", "metrics/get-history", query, 400, "INVALID_PARAMETER_VALUE")
