"""The stock ``mlflow`` 3.x client, unchanged, running the notes' model registry workflow against
``trackline server`` (a real process on a loopback port, artifacts proxied).

``mlflow.sklearn.log_model`` then ``mlflow.register_model("runs:/<id>/model", name)`` twice,
stage transitions with and without ``archive_existing_versions``, descriptions, tags,
searches (the client appends its prompt-exclusion clause), an alias, and loading the model
through every ``models:/`` form. Each call crosses the wire with the client's own request
shapes (its prompt pre-checks included); the audit trail is then read back over trackline's
endpoint. The last test runs trackline's registry client against MLflow's own server.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import numpy as np
import pytest

from .conftest import ServerProcess

pytestmark = [
    # See test_stock_client.py: MLflow's import-time warning about its own `Any` type hints.
    pytest.mark.filterwarnings(
        "ignore:.*Any type hint is inferred as AnyType:UserWarning:mlflow.types.type_hints"
    ),
    # MLflow deprecates stages (transition_model_version_stage, get_latest_versions); the
    # notes use them, and so does this test.
    pytest.mark.filterwarnings("ignore:.*deprecated since 2.9.0:FutureWarning"),
    # mlflow.models.utils compares a DataFrame's columns with a range() when saving an
    # input_example, which pandas 3 deprecates; MLflow's code, not ours.
    pytest.mark.filterwarnings(
        "ignore:Operation with range is deprecated:pandas.errors.Pandas4Warning:mlflow.models.utils"
    ),
]


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def diabetes() -> tuple[Any, Any]:
    """The diabetes features (a DataFrame) and target."""
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True, as_frame=True)
    return x, y


def _events(server: ServerProcess, name: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{server.url}/api/2.0/trackline/registry/events", params={"name": name})
    assert answer.status_code == 200, answer.text
    events: list[dict[str, Any]] = answer.json()["events"]
    return events


def test_registry_workflow(
    stock_mlflow: ModuleType, trackline_server: ServerProcess, diabetes: tuple[Any, Any]
) -> None:
    mlflow = stock_mlflow
    from mlflow.exceptions import MlflowException
    from sklearn.linear_model import Ridge

    x, y = diabetes
    model = Ridge(alpha=0.5).fit(x, y)
    expected = model.predict(x)
    mlflow.set_experiment(_name("registry"))
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", 0.5)
        info = mlflow.sklearn.log_model(model, name="model", input_example=x.iloc[:5])
    name = _name("sk-learn-ridge")

    v1 = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)
    v2 = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)
    assert (v1.version, v2.version) == ("1", "2")
    assert v1.source == f"models:/{info.model_id}"
    assert v1.run_id == run.info.run_id
    raw = httpx.get(
        f"{trackline_server.url}/api/2.0/mlflow/model-versions/get",
        params={"name": name, "version": "1"},
    ).json()["model_version"]
    assert raw["model_id"] == info.model_id  # (MLflow's client does not read it back)

    client = mlflow.MlflowClient()
    client.transition_model_version_stage(name, "1", "Staging")
    client.transition_model_version_stage(name, "2", "Staging", archive_existing_versions=True)
    assert client.get_model_version(name, "1").current_stage == "Archived"
    client.transition_model_version_stage(name, "1", "Production")
    client.transition_model_version_stage(name, "2", "Production", archive_existing_versions=True)
    assert client.get_model_version(name, "1").current_stage == "Archived"
    assert client.get_model_version(name, "2").current_stage == "Production"

    updated = client.update_model_version(name, "2", description="ridge, alpha 0.5")
    assert updated.description == "ridge, alpha 0.5"
    client.update_registered_model(name, description="diabetes progression")
    client.set_registered_model_tag(name, "task", "regression")
    client.set_model_version_tag(name, "2", "validated", "yes")
    client.set_registered_model_alias(name, "champion", "2")

    latest = client.get_latest_versions(name, stages=["Production"])
    assert [v.version for v in latest] == ["2"]
    found = client.search_registered_models(filter_string=f"name = '{name}'")
    assert [m.name for m in found] == [name]
    assert found[0].aliases == {"champion": "2"}
    assert found[0].tags == {"task": "regression"}
    versions = client.search_model_versions(f"name = '{name}'")
    assert sorted(v.version for v in versions) == ["1", "2"]
    assert client.get_model_version_by_alias(name, "champion").version == "2"
    assert client.get_model_version(name, "2").tags == {"validated": "yes"}
    assert client.get_model_version_download_uri(name, "2").endswith(
        f"/models/{info.model_id}/artifacts"
    )

    for uri in (f"models:/{name}@champion", f"models:/{name}/Production", f"models:/{name}/1",
                f"models:/{name}/latest", f"models:/{info.model_id}"):  # fmt: skip
        loaded = mlflow.pyfunc.load_model(uri)
        assert np.allclose(loaded.predict(x), expected), uri
    assert np.allclose(mlflow.sklearn.load_model(f"models:/{name}/2").predict(x), expected)

    # bad input: MLflow's error codes, nothing changed
    before = client.get_registered_model(name)
    for call, code in [
        (lambda: client.create_registered_model(name), "RESOURCE_ALREADY_EXISTS"),
        (lambda: client.get_model_version(name, "99"), "RESOURCE_DOES_NOT_EXIST"),
        (lambda: client.transition_model_version_stage(name, "1", "Prod"),
         "INVALID_PARAMETER_VALUE"),
        (lambda: client.get_model_version_by_alias(name, "nope"), "INVALID_PARAMETER_VALUE"),
        (lambda: client.set_registered_model_alias(name, "latest", "1"),
         "INVALID_PARAMETER_VALUE"),
        (lambda: client.get_registered_model(_name("nope")), "RESOURCE_DOES_NOT_EXIST"),
    ]:  # fmt: skip
        with pytest.raises(MlflowException) as exc:
            call()
        assert exc.value.error_code == code
    after = client.get_registered_model(name)
    assert (after.aliases, after.tags, after.description) == (
        before.aliases,
        before.tags,
        before.description,
    )
    assert [v.version for v in after.latest_versions] == [v.version for v in before.latest_versions]

    # the audit trail has every change, in order
    events = _events(trackline_server, name)
    actions = [e["action"] for e in events]
    assert actions[:3] == [
        "create_registered_model",
        "create_model_version",
        "create_model_version",
    ]
    for action in ("transition_model_version_stage", "update_model_version",
                   "update_registered_model", "set_registered_model_tag",
                   "set_model_version_tag", "set_registered_model_alias"):  # fmt: skip
        assert action in actions
    ids = [e["event_id"] for e in events]
    assert ids == sorted(ids)
    moves = [(e["version"], e["old_value"], e["new_value"]) for e in events
             if e["action"] == "transition_model_version_stage"]  # fmt: skip
    assert ("1", "Staging", "Archived") in moves
    assert ("2", "Staging", "Production") in moves


def test_rename_delete_and_search_paging(stock_mlflow: ModuleType) -> None:
    mlflow = stock_mlflow
    client = mlflow.MlflowClient()
    prefix = _name("page")
    names = [f"{prefix}-{i}" for i in range(3)]
    for model_name in names:
        client.create_registered_model(model_name, tags={"group": prefix})
    first = client.search_registered_models(filter_string=f"tags.group = '{prefix}'", max_results=2)
    assert [m.name for m in first] == names[:2]
    assert first.token
    rest = client.search_registered_models(
        filter_string=f"tags.group = '{prefix}'", max_results=2, page_token=first.token
    )
    assert [m.name for m in rest] == names[2:]
    assert not rest.token
    client.rename_registered_model(names[0], f"{prefix}-renamed")  # MLflow's returns None
    assert client.get_registered_model(f"{prefix}-renamed").tags == {"group": prefix}
    client.delete_registered_model_tag(f"{prefix}-renamed", "group")
    client.delete_registered_model(f"{prefix}-renamed")
    left = mlflow.search_registered_models(filter_string=f"name LIKE '{prefix}%'")
    assert [m.name for m in left] == names[1:]


def test_trackline_client_against_an_mlflow_server(
    trackline_client: ModuleType, tmp_path: Path
) -> None:
    """The reverse direction: trackline's registry client against MLflow's own server."""
    tl = trackline_client
    from trackline.exceptions import MlflowException
    from trackline.tracking.model_uri import download_artifacts, resolve_model_uri

    tl.set_experiment(_name("reverse-registry"))
    with tl.start_run() as run:
        tl.log_text("artifact_path: model\nflavors: {}\n", "model/MLmodel")
    name = _name("reverse")
    v1 = tl.register_model(f"runs:/{run.info.run_id}/model", name)
    v2 = tl.register_model(f"runs:/{run.info.run_id}/model", name, tags={"k": "v"})
    assert (v1.version, v2.version) == ("1", "2")
    assert v1.source.endswith(f"/{run.info.run_id}/artifacts/model")
    assert v2.tags == {"k": "v"}

    client = tl.MlflowClient()
    client.transition_model_version_stage(name, 1, "Staging")
    client.transition_model_version_stage(name, 2, "Staging", archive_existing_versions=True)
    assert client.get_model_version(name, 1).current_stage == "Archived"
    client.update_model_version(name, 2, description="second")
    client.set_registered_model_alias(name, "champion", 2)
    assert [v.version for v in client.get_latest_versions(name, ["Staging"])] == ["2"]
    model = client.get_registered_model(name)
    assert model.aliases == {"champion": "2"}
    found = client.search_registered_models(filter_string=f"name = '{name}'")
    assert [m.name for m in found] == [name]
    assert sorted(v.version for v in client.search_model_versions(f"name = '{name}'")) == [
        "1",
        "2",
    ]
    assert resolve_model_uri(f"models:/{name}@champion") == v2.source
    local = download_artifacts(f"models:/{name}/Staging", dst_path=str(tmp_path / "m"))
    assert (Path(local) / "MLmodel").is_file()
    with pytest.raises(MlflowException) as alias:
        client.get_model_version_by_alias(name, "nope")
    assert alias.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as no_trail:
        client.search_registry_events(name)
    assert no_trail.value.error_code == "ENDPOINT_NOT_FOUND"  # MLflow has no audit trail
