"""The notes' model registry workflow with ``import trackline as mlflow``: embedded (SQLite,
PostgreSQL, MariaDB) and through a trackline server (in process, artifacts proxied).

Register the same model twice (versions 1 and 2), move versions through the stages with and
without ``archive_existing_versions``, describe, tag, search, alias, resolve every
``models:/`` form, read the audit trail, and check that bad input gets MLflow's error code
and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal
from tests.asgi import SyncASGITransport

import trackline as mlflow
from trackline.entities import LoggedModelOutput, LoggedModelStatus, ModelVersion
from trackline.exceptions import MlflowException
from trackline.server import create_app
from trackline.store import uri as store_uri
from trackline.store.rest import RestTrackingStore
from trackline.tracking.model_uri import download_artifacts, resolve_model_uri

BASE_URL = "http://127.0.0.1"
INVALID = "INVALID_PARAMETER_VALUE"
MISSING = "RESOURCE_DOES_NOT_EXIST"
EXISTS = "RESOURCE_ALREADY_EXISTS"
MLMODEL = "artifact_path: model\nflavors: {}\n"


@pytest.fixture(params=["sqlite", "postgres", "mysql", "server"])
def backend(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[str]:
    """The tracking (and registry) URI: a database, or a server on a SQLite database."""
    if request.param != "server":
        uri: str = request.getfixturevalue(f"{request.param}_uri")
        mlflow.set_tracking_uri(uri)
        yield request.param
        return
    sqlite_uri: str = request.getfixturevalue("sqlite_uri")
    app = create_app(sqlite_uri, artifacts_destination=str(tmp_path / "mlartifacts"))
    with start_blocking_portal() as portal:
        lifespan = portal.wrap_async_context_manager(app.router.lifespan_context(app))
        with lifespan:
            transport = SyncASGITransport(app, portal)
            monkeypatch.setitem(
                store_uri._builders, "http", lambda u: RestTrackingStore(u, transport=transport)
            )
            mlflow.set_tracking_uri(BASE_URL)
            yield "server"
            while mlflow.active_run() is not None:
                mlflow.end_run()
            store_uri._reset_cache()


def _logged_run(tmp_path: Path) -> str:
    """A run with a model folder (MLflow 2's layout: ``model/MLmodel`` in its artifacts)."""
    mlflow.set_experiment("registry")
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_text(MLMODEL, "model/MLmodel")
        mlflow.log_text("weights", "model/data/weights.txt")
    return run.info.run_id


def _logged_model(tmp_path: Path, run_id: str, name: str = "model") -> str:
    """A logged model of ``run_id`` with files (MLflow 3's layout); its id."""
    client = mlflow.MlflowClient()
    store = client._sync()
    run = client.get_run(run_id)
    model = store.create_logged_model(run.info.experiment_id, name=name, source_run_id=run_id)
    folder = tmp_path / f"files-{model.model_id}"
    folder.mkdir()
    (folder / "MLmodel").write_text(MLMODEL)
    client._artifact_repository(model.artifact_location).log_artifacts(folder)
    store.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    store.log_outputs(run_id, [LoggedModelOutput(model.model_id, 0)])
    return model.model_id


def _code(exc: pytest.ExceptionInfo[MlflowException]) -> str:
    return exc.value.error_code


def _snapshot(name: str) -> tuple[Any, ...]:
    client = mlflow.MlflowClient()
    model = client.get_registered_model(name).to_dictionary()
    versions = [
        v.to_dictionary()
        for v in client.search_model_versions(f"name = '{name}'", order_by=["version_number"])
    ]
    events = [e.to_dictionary() for e in client.search_registry_events()]
    return model, versions, events


# -- the notes' workflow ------------------------------------------------------------------------


def test_registry_workflow(backend: str, tmp_path: Path) -> None:
    run_id = _logged_run(tmp_path)
    client = mlflow.MlflowClient()

    v1 = mlflow.register_model(f"runs:/{run_id}/model", "sk-learn-random-forest-reg-model")
    v2 = mlflow.register_model(f"runs:/{run_id}/model", "sk-learn-random-forest-reg-model")
    assert isinstance(v1, ModelVersion)
    assert (v1.version, v2.version) == ("1", "2")
    assert v1.run_id == run_id
    assert v1.current_stage == "None"
    root = client.get_run(run_id).info.artifact_uri
    assert v1.source == f"{root}/model"
    name = v1.name

    staged = client.transition_model_version_stage(name, 1, "Staging")
    assert staged.current_stage == "Staging"
    client.transition_model_version_stage(name, 2, "staging", archive_existing_versions=True)
    assert client.get_model_version(name, 1).current_stage == "Archived"
    client.transition_model_version_stage(name, 1, "Production")
    client.transition_model_version_stage(name, 2, "Production")  # without archiving
    assert client.get_model_version(name, 1).current_stage == "Production"
    client.transition_model_version_stage(name, "2", "Production", archive_existing_versions=True)
    assert client.get_model_version(name, 1).current_stage == "Archived"

    described = client.update_model_version(name, 2, description="A random forest")
    assert described.description == "A random forest"
    client.update_registered_model(name, description="Forests")
    client.set_registered_model_tag(name, "task", "regression")
    client.set_model_version_tag(name, "2", "validated", True)

    latest = client.get_latest_versions(name, stages=["Production"])
    assert [v.version for v in latest] == ["2"]
    everything = {v.current_stage: v.version for v in client.get_latest_versions(name)}
    assert everything == {"Production": "2", "Archived": "1"}

    client.set_registered_model_alias(name, "champion", 2)
    assert client.get_model_version_by_alias(name, "champion").version == "2"
    model = client.get_registered_model(name)
    assert model.description == "Forests"
    assert model.tags == {"task": "regression"}
    assert model.aliases == {"champion": "2"}
    assert client.get_model_version(name, 2).tags == {"validated": "True"}
    assert client.get_model_version(name, 2).aliases == ["champion"]

    found = client.search_registered_models(filter_string=f"name = '{name}'")
    assert [m.name for m in found] == [name]
    assert [
        m.name for m in mlflow.search_registered_models(filter_string="tags.task = 'regression'")
    ] == [name]
    versions = client.search_model_versions(f"name = '{name}'", order_by=["version_number ASC"])
    assert [v.version for v in versions] == ["1", "2"]
    assert len(mlflow.search_model_versions(filter_string=f"run_id = '{run_id}'")) == 2
    assert [m.name for m in client.list_registered_models()] == [name]

    # every URI form resolves to the version's files
    uri_v2 = client.get_model_version_download_uri(name, 2)
    assert uri_v2 == f"{root}/model"
    for uri in (f"models:/{name}/2", f"models:/{name}/Production", f"models:/{name}/production",
                f"models:/{name}/latest", f"models:/{name}@champion"):  # fmt: skip
        assert resolve_model_uri(uri) == uri_v2, uri
    assert resolve_model_uri(f"models:/{name}/Archived") == uri_v2  # same source, version 1
    assert resolve_model_uri(f"models:/{name}@champion/data/weights.txt") == (
        f"{uri_v2}/data/weights.txt"
    )
    local = Path(download_artifacts(f"models:/{name}@champion", dst_path=str(tmp_path / "dl")))
    assert (local / "MLmodel").read_text() == MLMODEL
    weights = download_artifacts(f"models:/{name}/1/data/weights.txt", dst_path=str(tmp_path / "w"))
    assert Path(weights).read_text() == "weights"

    # the audit trail lists every change in order
    events = client.search_registry_events(name)
    created = [e for e in events if e.action == "create_model_version"]
    assert [(e.version, e.new_value) for e in created] == [("1", v1.source), ("2", v2.source)]
    stage_moves = [(e.version, e.old_value, e.new_value) for e in events
                   if e.action == "transition_model_version_stage"]  # fmt: skip
    assert stage_moves == [  # a move to the stage a version is in changes nothing
        ("1", "None", "Staging"),
        ("1", "Staging", "Archived"),  # archived by the move of version 2, first
        ("2", "None", "Staging"),
        ("1", "Archived", "Production"),
        ("2", "Staging", "Production"),
        ("1", "Production", "Archived"),
    ]
    kinds = [e.action for e in events]
    assert kinds[:3] == ["create_registered_model", "create_model_version", "create_model_version"]
    for action in ("update_model_version", "update_registered_model",
                   "set_registered_model_tag", "set_model_version_tag",
                   "set_registered_model_alias"):  # fmt: skip
        assert action in kinds
    ids = [e.event_id for e in events]
    assert ids == sorted(ids)
    description = next(e for e in events if e.action == "update_model_version")
    assert (description.key, description.new_value) == ("description", "A random forest")
    alias = next(e for e in events if e.action == "set_registered_model_alias")
    assert (alias.key, alias.old_value, alias.new_value) == ("champion", None, "2")
    assert next(e.action for e in client.search_registry_events(name, version=1)) == (
        "create_model_version"
    )


def test_register_model_from_a_logged_model(backend: str, tmp_path: Path) -> None:
    mlflow.set_experiment("registry-v3")
    with mlflow.start_run() as run:
        mlflow.log_param("p", 1)
    run_id = run.info.run_id
    model_id = _logged_model(tmp_path, run_id)
    client = mlflow.MlflowClient()

    from_run = mlflow.register_model(f"runs:/{run_id}/model", "v3")
    assert from_run.source == f"models:/{model_id}"
    assert (from_run.model_id, from_run.run_id) == (model_id, run_id)
    from_id = mlflow.register_model(f"models:/{model_id}", "v3", tags={"origin": "id"})
    assert from_id.version == "2"
    assert from_id.tags == {"origin": "id"}
    location = client._sync().get_logged_model(model_id).artifact_location
    assert client.get_model_version_download_uri("v3", 2) == location
    assert resolve_model_uri(f"models:/{model_id}") == location
    assert resolve_model_uri("models:/v3/1") == location
    tag = client._sync().get_logged_model(model_id).tags["mlflow.modelVersions"]
    assert json.loads(tag) == [{"name": "v3", "version": 1}, {"name": "v3", "version": 2}]

    whole = Path(download_artifacts(f"runs:/{run_id}/model", dst_path=str(tmp_path / "dl")))
    assert whole == tmp_path / "dl" / "model"
    assert (whole / "MLmodel").read_text() == MLMODEL
    one = download_artifacts(run_id=run_id, artifact_path="model/MLmodel", dst_path=tmp_path)
    assert Path(one) == tmp_path / "MLmodel"

    copied = mlflow.register_model("models:/v3/1", "copy")  # another registered version
    assert copied.version == "1"
    assert copied.model_id == model_id
    assert client.get_model_version_download_uri("copy", 1) == location
    with pytest.raises(MlflowException) as missing:
        mlflow.register_model(f"runs:/{run_id}/nothing-here", "v3")
    assert _code(missing) == MISSING
    assert [v.version for v in client.search_model_versions("name = 'v3'")] == ["2", "1"]


def test_bad_input_gets_the_right_code_and_changes_nothing(backend: str, tmp_path: Path) -> None:
    run_id = _logged_run(tmp_path)
    client = mlflow.MlflowClient()
    mlflow.register_model(f"runs:/{run_id}/model", "m")
    client.set_registered_model_alias("m", "champion", 1)
    before = _snapshot("m")
    bad = [
        (lambda: client.create_registered_model("m"), EXISTS),
        (lambda: client.get_registered_model("nope"), MISSING),
        (lambda: client.get_model_version("m", 7), MISSING),
        (lambda: client.get_model_version("m", "one"), INVALID),
        (lambda: client.transition_model_version_stage("m", 1, "Prod"), INVALID),
        (lambda: client.transition_model_version_stage("m", 9, "Staging"), MISSING),
        (lambda: client.transition_model_version_stage("m", 1, "None", True), INVALID),
        (lambda: client.transition_model_version_stage("nope", 1, "Staging"), MISSING),
        (lambda: client.update_model_version("m", 3, "x"), MISSING),
        (lambda: client.update_model_version("m", 1), INVALID),
        (lambda: client.get_model_version_by_alias("m", "nope"), INVALID),
        (lambda: client.set_registered_model_alias("m", "latest", 1), INVALID),
        (lambda: client.set_registered_model_alias("m", "v2", 1), INVALID),
        (lambda: client.set_registered_model_alias("m", "other", 5), MISSING),
        (lambda: client.rename_registered_model("nope", "x"), MISSING),
        (lambda: client.create_model_version("nope", f"runs:/{run_id}/model", run_id), MISSING),
        (lambda: client.create_model_version("m", "file:///etc/passwd", run_id), INVALID),
        (lambda: client.create_model_version("m", "http://169.254.169.254/latest", run_id),
         INVALID),
        (lambda: client.create_model_version("m", f"runs:/{run_id}/model", "f" * 32), INVALID),
        (lambda: client.get_latest_versions("m", ["Prod"]), INVALID),
        (lambda: client.delete_registered_model_tag("m", "nope"), MISSING),
        (lambda: client.delete_model_version("m", 4), MISSING),
        (lambda: client.set_model_version_tag("m", 1, "k", "v", stage="Staging"), INVALID),
        (lambda: client.search_registered_models(filter_string="nonsense ="), INVALID),
        (lambda: resolve_model_uri("models:/m/Production"), MISSING),
        (lambda: resolve_model_uri("models:/m@nope"), INVALID),
        (lambda: resolve_model_uri("models:/"), INVALID),
        (lambda: resolve_model_uri("models:/m//1"), INVALID),
        (lambda: resolve_model_uri("models://host/m/1"), INVALID),
        (lambda: resolve_model_uri("models:/m@"), INVALID),
        (lambda: resolve_model_uri("models:/m/1/../../x"), INVALID),
    ]  # fmt: skip
    for call, code in bad:
        with pytest.raises(MlflowException) as exc:
            call()
        assert _code(exc) == code, (exc.value.message, code)
    assert _snapshot("m") == before


def test_rename_and_delete_keep_the_history(backend: str, tmp_path: Path) -> None:
    run_id = _logged_run(tmp_path)
    client = mlflow.MlflowClient()
    mlflow.register_model(f"runs:/{run_id}/model", "old")
    mlflow.register_model(f"runs:/{run_id}/model", "old")
    client.rename_registered_model("old", "new")
    assert [v.version for v in client.get_latest_versions("new")] == ["2"]
    client.delete_model_version("new", 2)
    assert mlflow.register_model(f"runs:/{run_id}/model", "new").version == "3"  # never reused
    client.delete_registered_model_alias("new", "nothing")  # no error
    client.delete_registered_model("new")
    with pytest.raises(MlflowException) as gone:
        client.get_registered_model("new")
    assert _code(gone) == MISSING
    actions = [e.action for e in client.search_registry_events()]
    assert actions[-4:] == [
        "rename_registered_model",
        "delete_model_version",
        "create_model_version",
        "delete_registered_model",
    ]
    page = client.search_registry_events(max_results=2)
    assert len(page) == 2
    assert page.token
    rest = client.search_registry_events(page_token=page.token)
    assert [e.event_id for e in page + rest] == [
        e.event_id for e in client.search_registry_events()
    ]


def test_registry_uri_can_differ_from_the_tracking_uri(tmp_path: Path, sqlite_uri: str) -> None:
    mlflow.set_tracking_uri(sqlite_uri)
    mlflow.set_registry_uri(sqlite_uri)
    assert mlflow.get_registry_uri() == sqlite_uri
    client = mlflow.MlflowClient(registry_uri=sqlite_uri)
    assert client.registry_uri == sqlite_uri
    client.create_registered_model("r", tags={"a": 1}, description="d")
    assert client.get_registered_model("r").tags == {"a": "1"}
    assert client.get_model_version_stages("r", 1) == ["None", "Staging", "Production", "Archived"]
