"""``logged-models/*`` and ``runs/outputs`` on both prefixes, the idempotent ``runs/create``,
and the REST sequence of MLflow 3's ``mlflow.sklearn.log_model`` replayed call by call."""

from __future__ import annotations

import re
import uuid
from typing import Any

from ..conftest import Api


def _model(api: Api, experiment_id: str = "0", **fields: Any) -> dict[str, Any]:
    body = {"experiment_id": experiment_id, **fields}
    model: dict[str, Any] = api.ok("POST", "logged-models", body)["model"]
    return model


# -- the log_model sequence of the 3.x client (reference §4) -------------------------------


def test_sklearn_log_model_sequence_end_to_end(api: Api) -> None:
    experiment_id = api.experiment("exp1")
    user_tags = [
        {"key": "mlflow.user", "value": "root"},
        {"key": "mlflow.source.name", "value": "scenario.py"},
        {"key": "mlflow.source.type", "value": "LOCAL"},
    ]
    run_id = api.ok(
        "POST",
        "runs/create",
        {"experiment_id": experiment_id, "user_id": "root", "start_time": 1000, "tags": user_tags},
    )["run"]["info"]["run_id"]
    api.ok("POST", "runs/log-parameter", {"run_uuid": run_id, "run_id": run_id,
                                          "key": "C", "value": "1.0"})  # fmt: skip
    api.ok("POST", "runs/log-metric", {"run_uuid": run_id, "run_id": run_id, "key": "score",
                                       "value": 0.97, "timestamp": 2000, "step": 0})  # fmt: skip
    # 1. GET runs/get (the run's params)
    params = api.ok("GET", "runs/get", {"run_uuid": run_id, "run_id": run_id})["run"]["data"][
        "params"
    ]
    # 2. POST logged-models
    created = api.ok(
        "POST",
        "logged-models",
        {"experiment_id": experiment_id, "name": "model", "source_run_id": run_id,
         "params": params, "tags": user_tags},
    )["model"]  # fmt: skip
    info = created["info"]
    model_id = info["model_id"]
    assert re.fullmatch(r"m-[0-9a-f]{32}", model_id)
    assert info["status"] == "LOGGED_MODEL_PENDING"
    assert info["artifact_uri"].endswith(f"/{experiment_id}/models/{model_id}/artifacts")
    assert info["source_run_id"] == run_id
    assert isinstance(info["creation_timestamp_ms"], int)
    assert created["data"]["params"] == [{"key": "C", "value": "1.0"}]
    # 3. POST runs/outputs
    outputs_body = {"run_id": run_id, "models": [{"model_id": model_id, "step": 0}]}
    assert api.ok("POST", "runs/outputs", outputs_body) == {}
    # 4. GET runs/get, GET metrics/get-history, POST runs/log-batch with model_id
    run = api.ok("GET", "runs/get", {"run_id": run_id})["run"]
    history = api.ok(
        "GET",
        "metrics/get-history",
        {"run_uuid": run_id, "run_id": run_id, "metric_key": "score", "max_results": 25000},
    )["metrics"]
    batch = [{**point, "model_id": model_id, "run_id": run_id} for point in history]
    api.ok("POST", "runs/log-batch", {"run_id": run_id, "metrics": batch})
    assert [m["key"] for m in run["data"]["metrics"]] == ["score"]
    # 5. GET logged-models/M
    fetched = api.ok("GET", f"logged-models/{model_id}")["model"]
    assert fetched["info"]["artifact_uri"] == info["artifact_uri"]
    assert fetched["data"]["metrics"] == [
        {"key": "score", "value": 0.97, "timestamp": 2000, "step": 0, "model_id": model_id,
         "run_id": run_id}
    ]  # fmt: skip
    # 6. artifact uploads belong to the artifact routes.  7. PATCH logged-models/M READY
    ready = api.ok("PATCH", f"logged-models/{model_id}",
                   {"model_id": model_id, "status": "LOGGED_MODEL_READY"})["model"]  # fmt: skip
    assert ready["info"]["status"] == "LOGGED_MODEL_READY"
    # runs:/<run>/model resolves by searching the name, then keeping the run's model
    found = api.ok(
        "POST",
        "logged-models/search",
        {"experiment_ids": [experiment_id], "filter": "name = 'model'"},
    )["models"]
    assert [(m["info"]["model_id"], m["info"]["source_run_id"]) for m in found] == [
        (model_id, run_id)
    ]
    assert found[0]["info"]["status"] == "LOGGED_MODEL_READY"
    outputs = api.ok("GET", "runs/get", {"run_id": run_id})["run"]["outputs"]
    assert outputs == {"model_outputs": [{"model_id": model_id, "step": 0}]}
    # registration afterwards tags the model
    versions = '[{"name": "m2", "version": 1}]'
    tags = [{"key": "mlflow.modelVersions", "value": versions}]
    assert api.ok("PATCH", f"logged-models/{model_id}/tags", {"tags": tags}) == {}
    final = api.ok("GET", f"logged-models/{model_id}")["model"]["info"]
    assert {t["key"]: t["value"] for t in final["tags"]}["mlflow.modelVersions"] == versions


# -- single calls --------------------------------------------------------------------------


def test_create_without_name_generates_one_and_omits_unset_fields(api: Api) -> None:
    info = _model(api)["info"]
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d+", info["name"])
    assert not {"source_run_id", "model_type", "tags"} & set(info)
    assert info["experiment_id"] == "0"


def test_create_errors(api: Api) -> None:
    api.fail("POST", "logged-models", {}, 400, "INVALID_PARAMETER_VALUE")
    api.fail("POST", "logged-models", {"experiment_id": "0", "name": "a.b"}, 400,
             "INVALID_PARAMETER_VALUE")  # fmt: skip
    api.fail("POST", "logged-models", {"experiment_id": "777"}, 404, "RESOURCE_DOES_NOT_EXIST")
    api.fail("POST", "logged-models", {"experiment_id": "0", "source_run_id": "abc"}, 404,
             "RESOURCE_DOES_NOT_EXIST")  # fmt: skip


def test_get_unknown_and_deleted_models(api: Api) -> None:
    api.fail("GET", "logged-models/m-nope", None, 404, "RESOURCE_DOES_NOT_EXIST")
    model_id = _model(api, name="m")["info"]["model_id"]
    assert api.ok("DELETE", f"logged-models/{model_id}") == {}
    api.fail("GET", f"logged-models/{model_id}", None, 404, "RESOURCE_DOES_NOT_EXIST")
    deleted = api.ok("GET", f"logged-models/{model_id}", {"allow_deleted": "true"})["model"]
    assert deleted["info"]["model_id"] == model_id
    api.fail("DELETE", f"logged-models/{model_id}", None, 404, "RESOURCE_DOES_NOT_EXIST")


def test_finalize_needs_a_known_status(api: Api) -> None:
    model_id = _model(api, name="m")["info"]["model_id"]
    path = f"logged-models/{model_id}"
    message = api.fail("PATCH", path, {}, 400, "INVALID_PARAMETER_VALUE")
    assert "status" in message
    api.fail("PATCH", path, {"status": "LOGGED_MODEL_DONE"}, 400, "INVALID_PARAMETER_VALUE")
    api.fail("PATCH", path, {"status": "LOGGED_MODEL_STATUS_UNSPECIFIED"}, 400,
             "INVALID_PARAMETER_VALUE")  # fmt: skip
    failed = api.ok("PATCH", path, {"status": 3})["model"]["info"]
    assert failed["status"] == "LOGGED_MODEL_UPLOAD_FAILED"


def test_the_path_names_the_model_whatever_the_body_says(api: Api) -> None:
    first = _model(api, name="first")["info"]["model_id"]
    second = _model(api, name="second")["info"]["model_id"]
    body = {"modelId": second, "status": "LOGGED_MODEL_READY"}  # camelCase, another id
    assert api.ok("PATCH", f"logged-models/{first}", body)["model"]["info"]["model_id"] == first
    statuses = {
        m: api.ok("GET", f"logged-models/{m}")["model"]["info"]["status"] for m in (first, second)
    }
    assert statuses == {first: "LOGGED_MODEL_READY", second: "LOGGED_MODEL_PENDING"}


def test_tags_set_and_delete_with_keys_holding_slashes(api: Api) -> None:
    model_id = _model(api, name="m")["info"]["model_id"]
    tags = [{"key": "mlflow.model.isExternal", "value": "true"}, {"key": "a/b c", "value": "1"}]
    api.ok("PATCH", f"logged-models/{model_id}/tags", {"tags": tags})
    assert api.ok("DELETE", f"logged-models/{model_id}/tags/a%2Fb%20c") == {}
    api.ok("DELETE", f"logged-models/{model_id}/tags/mlflow.model.isExternal")
    info = api.ok("GET", f"logged-models/{model_id}")["model"]["info"]
    assert "tags" not in info
    api.fail("DELETE", f"logged-models/{model_id}/tags/nope", None, 404, "RESOURCE_DOES_NOT_EXIST")
    api.fail("PATCH", "logged-models/m-nope/tags", {"tags": tags}, 404, "RESOURCE_DOES_NOT_EXIST")


def test_search_filters_orders_and_pages(api: Api) -> None:
    experiment_id = api.experiment()
    run_id = api.run(experiment_id)
    ids = [_model(api, experiment_id, name=n, source_run_id=run_id)["info"]["model_id"]
           for n in ("a", "b", "c")]  # fmt: skip
    api.ok("POST", "runs/log-batch", {"run_id": run_id, "metrics": [
        {"key": "acc", "value": v, "timestamp": 1, "step": 0, "model_id": m,
         "dataset_name": "val", "dataset_digest": "d"}
        for m, v in zip(ids, (0.2, 0.9, "NaN"), strict=True)
    ]})  # fmt: skip
    body = {
        "experiment_ids": [experiment_id],
        "filter": "metrics.acc >= 0.1",
        "datasets": [{"dataset_name": "val"}],
        "order_by": [{"field_name": "metrics.acc", "ascending": False}],
        "max_results": 1,
    }
    page = api.ok("POST", "logged-models/search", body)
    assert [m["info"]["name"] for m in page["models"]] == ["b"]
    rest = api.ok("POST", "logged-models/search", {**body, "page_token": page["next_page_token"]})
    assert [m["info"]["name"] for m in rest["models"]] == ["a"]
    assert "next_page_token" not in rest
    nan = api.ok("POST", "logged-models/search", {"experiment_ids": [experiment_id],
                                                  "filter": "name = 'c'"})["models"]  # fmt: skip
    assert nan[0]["data"]["metrics"][0]["value"] == "NaN"
    assert api.ok("POST", "logged-models/search",
                  {"experiment_ids": [experiment_id], "filter": "name = 'zzz'"}) == {}  # fmt: skip


def test_search_errors(api: Api) -> None:
    api.fail("POST", "logged-models/search", {}, 400, "INVALID_PARAMETER_VALUE")
    for body in (
        {"experiment_ids": ["0"], "filter": "nope = 1"},
        {"experiment_ids": ["0"], "order_by": [{"field_name": "tags.t"}]},
        {"experiment_ids": ["0"], "order_by": [{"ascending": False}]},
        {"experiment_ids": ["0"], "max_results": 0},
        {"experiment_ids": ["x"]},
    ):
        api.fail("POST", "logged-models/search", body, 400, "INVALID_PARAMETER_VALUE")


def test_run_outputs_errors(api: Api) -> None:
    run_id = api.run()
    api.fail("POST", "runs/outputs", {"run_id": run_id}, 400, "INVALID_PARAMETER_VALUE")
    api.fail("POST", "runs/outputs", {"run_id": run_id, "models": [{"model_id": "m-x"}]}, 404,
             "RESOURCE_DOES_NOT_EXIST")  # fmt: skip
    api.fail("POST", "runs/outputs", {"models": [{"model_id": "m-x"}]}, 400,
             "INVALID_PARAMETER_VALUE")  # fmt: skip


def test_log_batch_with_an_unknown_model_is_not_found(api: Api) -> None:
    run_id = api.run()
    metric = {"key": "a", "value": 1, "timestamp": 1, "model_id": "m-x"}
    api.fail("POST", "runs/log-batch", {"run_id": run_id, "metrics": [metric]}, 404,
             "RESOURCE_DOES_NOT_EXIST")  # fmt: skip


# -- idempotent runs/create ----------------------------------------------------------------


def test_create_run_with_the_same_idempotency_key_answers_the_same_run(api: Api) -> None:
    experiment_id = api.experiment()
    body = {"experiment_id": experiment_id, "start_time": 5, "run_name": "once"}
    key = {"X-Trackline-Idempotency-Key": str(uuid.uuid4())}
    first = api.ok("POST", "runs/create", body, headers=key)["run"]
    again = api.ok("POST", "runs/create", body, headers=key)["run"]
    assert again["info"] == first["info"]
    other = api.ok("POST", "runs/create", body, headers={"X-Trackline-Idempotency-Key": "k2"})
    assert other["run"]["info"]["run_id"] != first["info"]["run_id"]
    unkeyed = api.ok("POST", "runs/create", body)["run"]
    assert unkeyed["info"]["run_id"] not in (
        first["info"]["run_id"],
        other["run"]["info"]["run_id"],
    )
    runs = api.ok("POST", "runs/search", {"experiment_ids": [experiment_id]})["runs"]
    assert len(runs) == 3


def test_the_idempotency_key_comes_only_from_the_header(api: Api) -> None:
    experiment_id = api.experiment()
    body = {"experiment_id": experiment_id, "request_key": "k"}
    first = api.ok("POST", "runs/create", body)["run"]["info"]["run_id"]
    assert api.ok("POST", "runs/create", body)["run"]["info"]["run_id"] != first


def test_a_malformed_idempotency_key_is_refused(api: Api) -> None:
    body = {"experiment_id": "0"}
    api.fail("POST", "runs/create", body, 400, "INVALID_PARAMETER_VALUE",
             headers={"X-Trackline-Idempotency-Key": "x" * 200})  # fmt: skip
