"""The notes' scenario 3: two stateless ``trackline server`` processes sharing one PostgreSQL
database and one S3 bucket (moto in server mode), as docs/deployment.md sets them up:

    trackline db upgrade postgresql://postgres@127.0.0.1:5432/<scratch>
    trackline server --backend-store-uri postgresql://...<scratch> \\
        --artifacts-destination s3://<bucket>/mlartifacts --workers 2 -p <A>
    trackline server --backend-store-uri postgresql://...<scratch> \\
        --artifacts-destination s3://<bucket>/mlartifacts -p <B>

The stock ``mlflow`` client runs the notes' workflow against A (params, metrics, artifacts,
``mlflow.sklearn.log_model``, ``register_model``, an alias) and reads everything back
through B (search, history, artifact download, ``load_model("models:/<name>@<alias>")``).
Then both servers take writes at once: concurrent ``log_batch`` calls to one run lose
nothing, and concurrent ``create_model_version`` calls number versions uniquely, without
gaps.
"""

from __future__ import annotations

import pickle
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import numpy as np
import pytest
from tests.compat.conftest import (  # noqa: F401 (_restore_environ is a fixture)
    ServerProcess,
    _restore_environ,
    import_stock_mlflow,
    reset_stock_mlflow,
    stop_server,
)
from tests.s3 import keys, s3_client

from .conftest import database_uri, scratch_database, start_scenario_server, trackline_cli

pytestmark = [
    # See tests/compat/test_stock_client.py: MLflow's import-time warning about its own
    # `Any` type hints; pandas 3 deprecating a comparison MLflow makes for input examples.
    pytest.mark.filterwarnings(
        "ignore:.*Any type hint is inferred as AnyType:UserWarning:mlflow.types.type_hints"
    ),
    pytest.mark.filterwarnings(
        "ignore:Operation with range is deprecated:pandas.errors.Pandas4Warning:mlflow.models.utils"
    ),
    pytest.mark.usefixtures("_restore_environ"),
]

DESTINATION = "mlartifacts"
T = TypeVar("T")


@dataclass(frozen=True)
class Cluster:
    """Two servers on one database and one bucket."""

    a: ServerProcess  # --workers 2
    b: ServerProcess  # one worker
    database: str
    bucket: str
    endpoint: str


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str, module_bucket: str
) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("scenario-3")
    with scratch_database("two_servers") as name:
        uri = database_uri(name)
        upgraded = trackline_cli("db", "upgrade", uri)
        assert upgraded.returncode == 0, upgraded.stderr
        common = ("--backend-store-uri", uri, "--artifacts-destination",
                  f"s3://{module_bucket}/{DESTINATION}")  # fmt: skip
        a = start_scenario_server(root / "a", moto_endpoint, (*common, "--workers", "2"))
        try:
            b = start_scenario_server(root / "b", moto_endpoint, common)
            try:
                yield Cluster(a, b, name, module_bucket, moto_endpoint)
            finally:
                stop_server(b)
        finally:
            stop_server(a)


@pytest.fixture
def mlflow() -> Iterator[ModuleType]:
    """The stock ``mlflow`` client (its tracking state reset afterwards)."""
    module = import_stock_mlflow()
    try:
        yield module
    finally:
        reset_stock_mlflow(module)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _in_parallel(calls: list[Callable[[], T]]) -> list[T]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [future.result() for future in [pool.submit(call) for call in calls]]


def test_notes_workflow_through_a_read_back_through_b(
    cluster: Cluster, mlflow: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Lasso
    from sklearn.preprocessing import StandardScaler

    monkeypatch.chdir(tmp_path)
    x, y = load_diabetes(return_X_y=True, as_frame=True)
    scaler = StandardScaler().fit(x)
    model = Lasso(alpha=0.1).fit(scaler.transform(x), y)
    expected = model.predict(scaler.transform(x))
    rmses = [float(1.0 / (step + 1)) for step in range(20)]
    name = _name("nyc-taxi-regressor")

    # -- server A: the notes' workflow -------------------------------------------------------
    mlflow.set_tracking_uri(cluster.a.url)
    experiment = mlflow.set_experiment(_name("nyc-taxi-experiment"))
    with mlflow.start_run() as run:
        mlflow.set_tag("developer", "cristian")
        mlflow.log_params({"alpha": 0.1, "train-data-path": "green_tripdata_2021-01.csv"})
        for step, rmse in enumerate(rmses):
            mlflow.log_metric("rmse", rmse, step=step)
        with open("preprocessor.b", "wb") as f_out:
            pickle.dump(scaler, f_out)
        mlflow.log_artifact("preprocessor.b", artifact_path="preprocessor")
        mlflow.sklearn.log_model(model, name="model", input_example=x.iloc[:5])
    run_id = run.info.run_id
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")
    version = mlflow.register_model(f"runs:/{run_id}/model", name)
    assert version.version == "1"
    mlflow.MlflowClient().set_registered_model_alias(name, "champion", version.version)

    # -- server B: everything reads back -----------------------------------------------------
    mlflow.set_tracking_uri(cluster.b.url)
    client = mlflow.MlflowClient()
    frame = mlflow.search_runs(experiment_ids=[experiment.experiment_id])
    assert list(frame["run_id"]) == [run_id]
    assert frame["params.alpha"][0] == "0.1"
    assert frame["tags.developer"][0] == "cristian"
    found = client.search_runs([experiment.experiment_id], filter_string="metrics.rmse < 0.1")
    assert [r.info.run_id for r in found] == [run_id]
    assert found[0].info.status == "FINISHED"
    history = client.get_metric_history(run_id, "rmse")
    assert sorted((m.step, m.value) for m in history) == list(enumerate(rmses))

    listed = {f.path for f in client.list_artifacts(run_id)}
    assert "preprocessor" in listed
    local = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="preprocessor", dst_path=str(tmp_path / "dst")
    )
    with open(Path(local) / "preprocessor.b", "rb") as f_in:
        assert np.allclose(pickle.load(f_in).transform(x), scaler.transform(x))

    assert client.get_model_version_by_alias(name, "champion").version == "1"
    assert client.get_registered_model(name).aliases == {"champion": "1"}
    loaded = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    assert np.allclose(loaded.predict(scaler.transform(x)), expected)
    sklearn_model = mlflow.sklearn.load_model(f"models:/{name}@champion")
    assert np.allclose(sklearn_model.predict(scaler.transform(x)), expected)

    # The artifacts are in the bucket, under the destination, and nowhere on the servers.
    stored = keys(s3_client(cluster.endpoint), cluster.bucket)
    prefix = f"{DESTINATION}/{run.info.artifact_uri.removeprefix('mlflow-artifacts:/')}"
    assert f"{prefix}/preprocessor/preprocessor.b" in stored
    assert any(k.endswith("/MLmodel") for k in stored)
    for server in (cluster.a, cluster.b):
        assert not (server.root / "mlartifacts").exists()
        assert not (server.root / "mlruns").exists()


def test_a_run_made_through_one_server_is_written_through_both_at_once(
    cluster: Cluster, mlflow: ModuleType
) -> None:
    writers, calls, points = 4, 15, 50
    clients = [
        mlflow.MlflowClient(tracking_uri=server.url)
        for server in (cluster.a, cluster.b, cluster.a, cluster.b)
    ]
    experiment_id = clients[0].create_experiment(_name("concurrent-batches"))
    run_id = clients[0].create_run(experiment_id).info.run_id
    entities = mlflow.entities

    def write(writer: int) -> int:
        client = clients[writer]
        for call in range(calls):
            first = (writer * calls + call) * points
            client.log_batch(
                run_id,
                metrics=[
                    entities.Metric("loss", float(first + i), 1_700_000_000_000 + i, first + i)
                    for i in range(points)
                ],
                params=[entities.Param(f"p-{writer}-{call}", str(call))],
                tags=[entities.RunTag(f"t-{writer}", str(call))],
            )
        return calls

    assert _in_parallel([lambda w=w: write(w) for w in range(writers)]) == [calls] * writers
    clients[1].set_terminated(run_id)

    total = writers * calls * points
    for client in clients[:2]:  # read back through each server
        run = client.get_run(run_id)
        assert run.info.status == "FINISHED"
        assert len(run.data.params) == writers * calls
        assert {run.data.tags[f"t-{w}"] for w in range(writers)} == {str(calls - 1)}
        assert run.data.metrics["loss"] == float(total - 1)  # the latest step's value
        history = client.get_metric_history(run_id, "loss")
        assert sorted(m.step for m in history) == list(range(total))
        assert all(m.value == float(m.step) for m in history)


def test_concurrent_model_versions_through_both_servers_are_numbered_without_gaps(
    cluster: Cluster, mlflow: ModuleType, tmp_path: Path
) -> None:
    writers, per_writer = 4, 6
    clients = [
        mlflow.MlflowClient(tracking_uri=server.url, registry_uri=server.url)
        for server in (cluster.a, cluster.b, cluster.a, cluster.b)
    ]
    name = _name("concurrent-versions")
    clients[0].create_registered_model(name)
    experiment_id = clients[1].create_experiment(_name("versions"))
    run = clients[1].create_run(experiment_id)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.txt").write_text("w")
    clients[1].log_artifacts(run.info.run_id, str(tmp_path / "model"), "model")
    source = f"{run.info.artifact_uri}/model"

    def register(writer: int) -> list[int]:
        made = []
        for _ in range(per_writer):
            version = clients[writer].create_model_version(name, source, run.info.run_id)
            made.append(int(version.version))
        return made

    numbers = [n for made in _in_parallel([lambda w=w: register(w) for w in range(writers)])
               for n in made]  # fmt: skip
    expected = list(range(1, writers * per_writer + 1))
    assert sorted(numbers) == expected
    for client in clients[:2]:
        listed = client.search_model_versions(f"name = '{name}'", max_results=1000)
        assert sorted(int(v.version) for v in listed) == expected
        assert {v.source for v in listed} == {source}
        latest: Any = client.get_registered_model(name)
        assert max(int(v.version) for v in latest.latest_versions) == expected[-1]
