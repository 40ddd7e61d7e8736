"""The idempotency header of ``POST logged-models`` and ``model-versions/create`` on both
prefixes: a repeat with the same key answers the first entity, the key comes only from the
header, a key of another experiment, model or kind and a malformed key are 400."""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import Api

HEADER = "X-Trackline-Idempotency-Key"
INVALID = "INVALID_PARAMETER_VALUE"


def _key(value: str) -> dict[str, dict[str, str]]:
    return {"headers": {HEADER: value}}


def _version_body(api: Api, name: str = "m") -> dict[str, Any]:
    """A model ``name`` and the body of a registration of a model folder of a new run."""
    run_id = api.run("0")
    artifact_uri = api.ok("GET", "runs/get", {"run_id": run_id})["run"]["info"]["artifact_uri"]
    api.ok("POST", "registered-models/create", {"name": name})
    return {"name": name, "source": f"{artifact_uri}/model", "run_id": run_id}


def _versions(api: Api, name: str = "m") -> list[str]:
    found = api.ok("GET", "model-versions/search", {"filter": f"name = '{name}'"})
    return sorted(v["version"] for v in found.get("model_versions", []))


def _models(api: Api, experiment_id: str) -> list[str]:
    found = api.ok("POST", "logged-models/search", {"experiment_ids": [experiment_id]})
    return sorted(m["info"]["model_id"] for m in found.get("models", []))


def test_a_repeated_logged_model_create_answers_the_same_model(api: Api) -> None:
    experiment_id = api.experiment()
    body = {"experiment_id": experiment_id, "name": "m", "params": [{"key": "a", "value": "1"}]}
    first = api.ok("POST", "logged-models", body, **_key("k1"))["model"]
    again = api.ok("POST", "logged-models", body, **_key("k1"))["model"]
    assert again["info"] == first["info"]
    other = api.ok("POST", "logged-models", body, **_key("k2"))["model"]
    unkeyed = api.ok("POST", "logged-models", body)["model"]
    ids = [m["info"]["model_id"] for m in (first, other, unkeyed)]
    assert _models(api, experiment_id) == sorted(ids)


def test_a_repeated_version_create_answers_the_same_version(api: Api) -> None:
    body = _version_body(api)
    first = api.ok("POST", "model-versions/create", body, **_key("k1"))["model_version"]
    again = api.ok("POST", "model-versions/create", body, **_key("k1"))["model_version"]
    assert again == first
    assert (
        api.ok("POST", "model-versions/create", body, **_key("k2"))["model_version"]["version"]
        == "2"
    )
    assert api.ok("POST", "model-versions/create", body)["model_version"]["version"] == "3"
    assert _versions(api) == ["1", "2", "3"]


def test_the_key_comes_only_from_the_header(api: Api) -> None:
    experiment_id = api.experiment()
    model_body = {"experiment_id": experiment_id, "request_key": "k"}
    api.ok("POST", "logged-models", model_body)
    api.ok("POST", "logged-models", model_body)
    assert len(_models(api, experiment_id)) == 2
    version_body = {**_version_body(api), "request_key": "k"}
    api.ok("POST", "model-versions/create", version_body)
    api.ok("POST", "model-versions/create", version_body)
    assert _versions(api) == ["1", "2"]


@pytest.mark.parametrize("key", ["x" * 200, "a b", "caf\u00e9"])
def test_malformed_keys_are_refused(api: Api, key: str) -> None:
    experiment_id = api.experiment()
    body = _version_body(api)
    headers = {HEADER: key.encode("utf-8")}
    api.fail("POST", "logged-models", {"experiment_id": experiment_id}, 400, INVALID,
             headers=headers)  # fmt: skip
    api.fail("POST", "model-versions/create", body, 400, INVALID, headers=headers)
    assert _models(api, experiment_id) == []
    assert _versions(api) == []


def test_keys_of_another_experiment_model_or_kind_are_refused(api: Api) -> None:
    experiment_id, other_experiment = api.experiment("a"), api.experiment("b")
    api.ok("POST", "logged-models", {"experiment_id": experiment_id}, **_key("model-key"))
    body = _version_body(api)
    api.ok("POST", "registered-models/create", {"name": "other"})
    other_body = {**body, "name": "other"}
    api.ok("POST", "model-versions/create", body, **_key("version-key"))
    api.ok("POST", "runs/create", {"experiment_id": experiment_id}, **_key("run-key"))
    refused = [
        ("logged-models", {"experiment_id": other_experiment}, "model-key"),
        ("model-versions/create", other_body, "version-key"),
        ("logged-models", {"experiment_id": experiment_id}, "run-key"),
        ("logged-models", {"experiment_id": experiment_id}, "version-key"),
        ("model-versions/create", body, "model-key"),
        ("runs/create", {"experiment_id": experiment_id}, "version-key"),
    ]
    for path, sent, key in refused:
        message = api.fail("POST", path, sent, 400, INVALID, **_key(key))
        assert "already used" in message
    assert len(_models(api, experiment_id)) == 1
    assert _models(api, other_experiment) == []
    assert _versions(api) == ["1"]
    assert _versions(api, "other") == []
