"""``runs/*`` on both prefixes."""

from __future__ import annotations

import json

from ..conftest import Api


def test_create_returns_the_run_with_generated_name(api: Api) -> None:
    experiment_id = api.experiment()
    body = {
        "experiment_id": experiment_id,
        "user_id": "ada",
        "start_time": 1234,
        "tags": [{"key": "mlflow.source.name", "value": "train.py"}],
    }
    run = api.ok("POST", "runs/create", body)["run"]
    info = run["info"]
    assert info["run_id"] == info["run_uuid"]
    assert len(info["run_id"]) == 32
    assert info["experiment_id"] == experiment_id
    assert info["user_id"] == "ada"
    assert info["status"] == "RUNNING"
    assert info["start_time"] == 1234
    assert "end_time" not in info
    assert info["artifact_uri"].endswith(f"/{experiment_id}/{info['run_id']}/artifacts")
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags["mlflow.runName"] == info["run_name"]
    assert tags["mlflow.source.name"] == "train.py"
    assert run["inputs"] == {}


def test_create_with_run_name_and_camel_case_fields(api: Api) -> None:
    experiment_id = api.experiment()
    body = {"experimentId": experiment_id, "runName": "named", "startTime": "77"}
    info = api.ok("POST", "runs/create", body)["run"]["info"]
    assert (info["run_name"], info["start_time"]) == ("named", 77)


def test_create_without_experiment_is_bad_request(api: Api) -> None:
    api.fail("POST", "runs/create", {"start_time": 1}, 400, "BAD_REQUEST")


def test_create_in_unknown_or_deleted_experiment(api: Api) -> None:
    api.fail("POST", "runs/create", {"experiment_id": "12345"}, 404, "RESOURCE_DOES_NOT_EXIST")
    experiment_id = api.experiment()
    api.ok("POST", "experiments/delete", {"experiment_id": experiment_id})
    api.fail("POST", "runs/create", {"experiment_id": experiment_id}, 400,
             "INVALID_PARAMETER_VALUE")  # fmt: skip


def test_get_accepts_run_uuid_and_unknown_is_404(api: Api) -> None:
    run_id = api.run()
    assert api.ok("GET", "runs/get", {"run_uuid": run_id})["run"]["info"]["run_id"] == run_id
    both = api.ok("GET", "runs/get", {"run_id": run_id, "run_uuid": run_id})
    assert both["run"]["info"]["run_id"] == run_id
    api.fail("GET", "runs/get", {"run_id": "f" * 32}, 404, "RESOURCE_DOES_NOT_EXIST")
    api.fail("GET", "runs/get", {}, 400, "INVALID_PARAMETER_VALUE")


def test_update_status_end_time_and_name(api: Api) -> None:
    run_id = api.run()
    body = {"run_id": run_id, "status": "FINISHED", "end_time": 5000, "run_name": "renamed"}
    info = api.ok("POST", "runs/update", body)["run_info"]
    assert (info["status"], info["end_time"], info["run_name"]) == ("FINISHED", 5000, "renamed")
    tags = api.ok("GET", "runs/get", {"run_id": run_id})["run"]["data"]["tags"]
    assert {"key": "mlflow.runName", "value": "renamed"} in tags


def test_update_ignores_an_invalid_status(api: Api) -> None:
    run_id = api.run()
    info = api.ok("POST", "runs/update", {"run_id": run_id, "status": "BOGUS"})["run_info"]
    assert info["status"] == "RUNNING"
    info = api.ok("POST", "runs/update", {"run_uuid": run_id, "status": 4})["run_info"]
    assert info["status"] == "FAILED"


def test_delete_and_restore(api: Api) -> None:
    run_id = api.run()
    assert api.ok("POST", "runs/delete", {"run_id": run_id}) == {}
    assert api.ok("GET", "runs/get", {"run_id": run_id})["run"]["info"]["lifecycle_stage"] == (
        "deleted"
    )
    api.fail("POST", "runs/set-tag", {"run_id": run_id, "key": "k", "value": "v"}, 400,
             "INVALID_PARAMETER_VALUE")  # fmt: skip
    assert api.ok("POST", "runs/restore", {"run_id": run_id}) == {}
    assert api.ok("GET", "runs/get", {"run_id": run_id})["run"]["info"]["lifecycle_stage"] == (
        "active"
    )


def test_log_parameter_is_immutable(api: Api) -> None:
    run_id = api.run()
    body = {"run_id": run_id, "run_uuid": run_id, "key": "alpha", "value": "0.5"}
    assert api.ok("POST", "runs/log-parameter", body) == {}
    assert api.ok("POST", "runs/log-parameter", body) == {}
    body["value"] = "0.6"
    api.fail("POST", "runs/log-parameter", body, 400, "INVALID_PARAMETER_VALUE")
    params = api.ok("GET", "runs/get", {"run_id": run_id})["run"]["data"]["params"]
    assert params == [{"key": "alpha", "value": "0.5"}]


def test_log_metric_round_trips_special_values(api: Api) -> None:
    run_id = api.run()
    for value in ("NaN", "Infinity", 0.25):
        key = f"m{value}"
        body = {"run_uuid": run_id, "run_id": run_id, "key": key, "value": value,
                "timestamp": 10, "step": 1}  # fmt: skip
        assert api.ok("POST", "runs/log-metric", body) == {}
    metrics = api.ok("GET", "runs/get", {"run_id": run_id})["run"]["data"]["metrics"]
    values = {m["key"]: m["value"] for m in metrics}
    assert values["mNaN"] == "NaN"
    assert values["m0.25"] == 0.25
    # MLflow's SQL store clamps infinities to the largest double
    assert values["mInfinity"] in ("Infinity", 1.7976931348623157e308)
    assert all(isinstance(m["timestamp"], int) and m["step"] == 1 for m in metrics)


def test_log_metric_requires_value_and_timestamp(api: Api) -> None:
    run_id = api.run()
    for missing in ("value", "timestamp", "key"):
        body = {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1}
        del body[missing]
        message = api.fail("POST", "runs/log-metric", body, 400, "INVALID_PARAMETER_VALUE")
        assert f"'{missing}'" in message
    body = {"run_id": run_id, "key": "m", "value": "high", "timestamp": 1}
    api.fail("POST", "runs/log-metric", body, 400, "INVALID_PARAMETER_VALUE")


def test_set_and_delete_tag(api: Api) -> None:
    run_id = api.run()
    assert api.ok("POST", "runs/set-tag", {"run_id": run_id, "key": "k", "value": "v"}) == {}
    assert api.ok("POST", "runs/set-tag", {"run_id": run_id, "key": "empty"}) == {}
    tags = {t["key"]: t["value"] for t in api.ok("GET", "runs/get", {"run_id": run_id})["run"]
            ["data"]["tags"]}  # fmt: skip
    assert (tags["k"], tags["empty"]) == ("v", "")
    assert api.ok("POST", "runs/delete-tag", {"run_id": run_id, "key": "k"}) == {}
    api.fail("POST", "runs/delete-tag", {"run_id": run_id, "key": "k"}, 404,
             "RESOURCE_DOES_NOT_EXIST")  # fmt: skip


def test_log_batch(api: Api) -> None:
    run_id = api.run()
    body = {
        "run_id": run_id,
        "metrics": [
            {"key": "loss", "value": 0.5, "timestamp": 1, "step": 0},
            {"key": "loss", "value": "0.25", "timestamp": "2", "step": "1", "run_id": run_id},
        ],
        "params": [{"key": "lr", "value": "0.1"}],
        "tags": [{"key": "phase", "value": "train"}],
    }
    assert api.ok("POST", "runs/log-batch", body) == {}
    data = api.ok("GET", "runs/get", {"run_id": run_id})["run"]["data"]
    assert [(m["key"], m["value"], m["step"]) for m in data["metrics"]] == [("loss", 0.25, 1)]
    assert data["params"] == [{"key": "lr", "value": "0.1"}]
    assert {"key": "phase", "value": "train"} in data["tags"]


def test_log_batch_nested_required_fields(api: Api) -> None:
    run_id = api.run()
    body = {"run_id": run_id, "metrics": [{"key": "m", "value": 1.0}]}
    message = api.fail("POST", "runs/log-batch", body, 400, "INVALID_PARAMETER_VALUE")
    assert "metrics[0].timestamp" in message
    body = {"run_id": run_id, "params": [{"value": "v"}]}
    message = api.fail("POST", "runs/log-batch", body, 400, "INVALID_PARAMETER_VALUE")
    assert "params[0].key" in message


def test_log_batch_limits(api: Api) -> None:
    run_id = api.run()
    too_many = {"run_id": run_id, "params": [{"key": f"p{i}", "value": "v"} for i in range(101)]}
    api.fail("POST", "runs/log-batch", too_many, 400, "INVALID_PARAMETER_VALUE")
    huge = {"run_id": run_id, "tags": [{"key": "t", "value": "x" * 1_000_001}]}
    message = api.fail("POST", "runs/log-batch", huge, 400, "INVALID_PARAMETER_VALUE")
    assert "1,000,000 bytes" in message
    data = api.ok("GET", "runs/get", {"run_id": run_id})["run"]["data"]
    assert "params" not in data
    assert all(t["key"] != "t" for t in data["tags"])


def test_log_batch_is_all_or_nothing(api: Api) -> None:
    run_id = api.run()
    api.ok("POST", "runs/log-parameter", {"run_id": run_id, "key": "p", "value": "1"})
    body = {
        "run_id": run_id,
        "metrics": [{"key": "m", "value": 1.0, "timestamp": 1}],
        "params": [{"key": "p", "value": "2"}],
    }
    api.fail("POST", "runs/log-batch", body, 400, "INVALID_PARAMETER_VALUE")
    assert "metrics" not in api.ok("GET", "runs/get", {"run_id": run_id})["run"]["data"]


def test_log_inputs(api: Api) -> None:
    run_id = api.run()
    dataset = {"name": "iris", "digest": "abc123", "source_type": "code",
               "source": json.dumps({"tags": {}}), "schema": "{}", "profile": "{}"}  # fmt: skip
    body = {
        "run_id": run_id,
        "datasets": [
            {"tags": [{"key": "mlflow.data.context", "value": "train"}], "dataset": dataset}
        ],
    }
    assert api.ok("POST", "runs/log-inputs", body) == {}
    inputs = api.ok("GET", "runs/get", {"run_id": run_id})["run"]["inputs"]
    assert inputs["dataset_inputs"] == [
        {"tags": [{"key": "mlflow.data.context", "value": "train"}], "dataset": dataset}
    ]
    body = {"run_id": run_id, "datasets": [{"dataset": {"name": "x"}}]}
    api.fail("POST", "runs/log-inputs", body, 400, "INVALID_PARAMETER_VALUE")


def test_search(api: Api) -> None:
    experiment_id = api.experiment()
    run_ids = [api.run(experiment_id, start_time=t) for t in (1, 2, 3)]
    api.ok("POST", "runs/log-metric",
           {"run_id": run_ids[0], "key": "loss", "value": 0.1, "timestamp": 1})  # fmt: skip
    found = api.ok("POST", "runs/search", {"experiment_ids": [experiment_id]})
    assert [r["info"]["run_id"] for r in found["runs"]] == run_ids[::-1]
    assert all("inputs" in r for r in found["runs"])
    page = api.ok("POST", "runs/search", {"experiment_ids": [experiment_id], "max_results": 2})
    assert len(page["runs"]) == 2
    rest = api.ok("POST", "runs/search", {"experiment_ids": [experiment_id], "max_results": 2,
                                          "page_token": page["next_page_token"]})  # fmt: skip
    assert [r["info"]["run_id"] for r in rest["runs"]] == [run_ids[0]]
    assert "next_page_token" not in rest
    body = {"experiment_ids": [experiment_id], "filter": "metrics.loss < 1",
            "run_view_type": "ACTIVE_ONLY", "order_by": ["attributes.start_time ASC"]}  # fmt: skip
    found = api.ok("POST", "runs/search", body)
    assert [r["info"]["run_id"] for r in found["runs"]] == [run_ids[0]]


def test_search_without_experiments_or_hits_is_empty(api: Api) -> None:
    assert api.ok("POST", "runs/search", {}) == {}
    experiment_id = api.experiment()
    assert api.ok("POST", "runs/search", {"experiment_ids": [experiment_id]}) == {}


def test_search_deleted_runs_by_view_type(api: Api) -> None:
    experiment_id = api.experiment()
    run_id = api.run(experiment_id)
    api.ok("POST", "runs/delete", {"run_id": run_id})
    assert api.ok("POST", "runs/search", {"experiment_ids": [experiment_id]}) == {}
    body = {"experiment_ids": [experiment_id], "run_view_type": "DELETED_ONLY"}
    assert [r["info"]["run_id"] for r in api.ok("POST", "runs/search", body)["runs"]] == [run_id]


def test_search_errors(api: Api) -> None:
    experiment_id = api.experiment()
    for body in (
        {"experiment_ids": [experiment_id], "filter": "metrics.x = 'a'"},
        {"experiment_ids": [experiment_id], "max_results": 50001},
        {"experiment_ids": [experiment_id], "page_token": "garbage!"},
        {"experiment_ids": [experiment_id], "order_by": ["nonsense.field sideways"]},
    ):
        api.fail("POST", "runs/search", body, 400, "INVALID_PARAMETER_VALUE")
