"""The fluent API (``import trackline as mlflow``) on a real SQLite store."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import trackline as mlflow
from trackline.entities import Run, ViewType
from trackline.exceptions import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_DOES_NOT_EXIST,
    MlflowException,
)
from trackline.tracking import active_run, fluent


@pytest.fixture
def uri(sqlite_uri: str) -> str:
    mlflow.set_tracking_uri(sqlite_uri)
    return sqlite_uri


def _client(uri: str) -> mlflow.MlflowClient:
    return mlflow.MlflowClient(uri)


# -- experiments ---------------------------------------------------------------------------
def test_set_experiment_creates_then_reuses(uri: str) -> None:
    created = mlflow.set_experiment("nyc-taxi-experiment")
    again = mlflow.set_experiment("nyc-taxi-experiment")
    assert created.experiment_id == again.experiment_id
    by_id = mlflow.set_experiment(experiment_id=created.experiment_id)
    assert by_id.name == "nyc-taxi-experiment"
    with mlflow.start_run() as run:
        pass
    assert run.info.experiment_id == created.experiment_id


def test_set_experiment_argument_errors(uri: str) -> None:
    with pytest.raises(MlflowException, match="exactly one"):
        mlflow.set_experiment()
    with pytest.raises(MlflowException, match="exactly one"):
        mlflow.set_experiment("a", "1")
    with pytest.raises(MlflowException) as info:
        mlflow.set_experiment(experiment_id="999")
    assert info.value.error_code == RESOURCE_DOES_NOT_EXIST


def test_set_experiment_refuses_a_deleted_one(uri: str) -> None:
    experiment = mlflow.set_experiment("gone")
    mlflow.delete_experiment(experiment.experiment_id)
    with pytest.raises(MlflowException, match="Cannot set a deleted experiment") as info:
        mlflow.set_experiment("gone")
    assert info.value.error_code == INVALID_PARAMETER_VALUE
    with pytest.raises(MlflowException, match="Cannot set a deleted experiment"):
        mlflow.set_experiment(experiment_id=experiment.experiment_id)


def test_experiment_from_the_environment(uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "from-env")
    with mlflow.start_run() as run:
        pass
    experiment = mlflow.get_experiment_by_name("from-env")
    assert experiment is not None
    assert run.info.experiment_id == experiment.experiment_id
    assert mlflow.set_experiment().name == "from-env"

    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME")
    fluent._reset()
    other = mlflow.create_experiment("by-id")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", other)
    with mlflow.start_run() as run:
        pass
    assert run.info.experiment_id == other


def test_default_experiment_is_zero(uri: str) -> None:
    with mlflow.start_run() as run:
        pass
    assert run.info.experiment_id == "0"


def test_experiment_functions(uri: str) -> None:
    eid = mlflow.create_experiment("e1", tags={"a": "1"})
    assert mlflow.get_experiment(eid).tags == {"a": "1"}
    assert mlflow.get_experiment_by_name("missing") is None
    mlflow.set_experiment("e1")
    mlflow.set_experiment_tag("b", 2)
    mlflow.set_experiment_tags({"c": "3", "d": 4})
    assert mlflow.get_experiment(eid).tags == {"a": "1", "b": "2", "c": "3", "d": "4"}
    for i in range(3):
        mlflow.create_experiment(f"more-{i}")
    assert {e.name for e in mlflow.list_experiments()} == {
        "Default",
        "e1",
        "more-0",
        "more-1",
        "more-2",
    }
    assert len(mlflow.search_experiments(max_results=2)) == 2
    assert [e.name for e in mlflow.search_experiments(filter_string="name = 'e1'")] == ["e1"]
    mlflow.delete_experiment(eid)
    assert [e.name for e in mlflow.search_experiments(ViewType.DELETED_ONLY)] == ["e1"]


# -- runs ----------------------------------------------------------------------------------
def test_start_run_as_context_manager(uri: str) -> None:
    with mlflow.start_run(run_name="first", description="notes here", tags={"k": "v"}) as run:
        assert mlflow.active_run() is run
        assert isinstance(run, Run)
    assert mlflow.active_run() is None
    stored = mlflow.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.info.end_time is not None
    tags = stored.data.tags
    assert tags["mlflow.runName"] == "first"
    assert tags["mlflow.note.content"] == "notes here"
    assert tags["k"] == "v"
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags["mlflow.source.name"] == sys.argv[0]
    assert tags["mlflow.user"] == stored.info.user_id


def test_user_tags_win_over_system_tags(uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "system-user")
    with mlflow.start_run(tags={"mlflow.source.name": "mine.py"}) as run:
        pass
    tags = mlflow.get_run(run.info.run_id).data.tags
    assert tags["mlflow.source.name"] == "mine.py"
    assert tags["mlflow.user"] == "system-user"


def test_description_and_note_tag_conflict(uri: str) -> None:
    with pytest.raises(MlflowException, match="Description"):
        mlflow.start_run(description="a", tags={"mlflow.note.content": "b"})
    assert mlflow.active_run() is None


def test_exception_marks_the_run_failed_and_propagates(uri: str) -> None:
    started: list[str] = []

    def train() -> None:
        with mlflow.start_run() as run:
            started.append(run.info.run_id)
            mlflow.log_param("p", 1)
            _ = 1 / 0

    with pytest.raises(ZeroDivisionError):
        train()
    assert mlflow.get_run(started[0]).info.status == "FAILED"
    assert mlflow.active_run() is None


def test_keyboard_interrupt_marks_the_run_killed(uri: str) -> None:
    with pytest.raises(KeyboardInterrupt), mlflow.start_run() as run:
        raise KeyboardInterrupt
    assert mlflow.get_run(run.info.run_id).info.status == "KILLED"


def test_second_run_needs_nested(uri: str) -> None:
    with mlflow.start_run() as parent:
        with pytest.raises(MlflowException, match="already active"):
            mlflow.start_run()
        with mlflow.start_run(nested=True) as child:
            assert mlflow.active_run() is child
            with mlflow.start_run(nested=True) as grandchild:
                pass
        assert mlflow.active_run() is parent
    tags = mlflow.get_run(child.info.run_id).data.tags
    assert tags["mlflow.parentRunId"] == parent.info.run_id
    assert mlflow.get_run(grandchild.info.run_id).data.tags["mlflow.parentRunId"] == (
        child.info.run_id
    )
    parent_run = mlflow.get_parent_run(child.info.run_id)
    assert parent_run is not None
    assert parent_run.info.run_id == parent.info.run_id
    assert all(
        mlflow.get_run(r.info.run_id).info.status == "FINISHED" for r in (parent, child, grandchild)
    )


def test_parent_run_id(uri: str) -> None:
    with mlflow.start_run() as parent:
        pass
    with mlflow.start_run(parent_run_id=parent.info.run_id) as child:
        pass
    assert mlflow.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == parent.info.run_id
    with mlflow.start_run(), pytest.raises(MlflowException, match="does not match"):
        mlflow.start_run(nested=True, parent_run_id=parent.info.run_id)


def test_exiting_a_parent_ends_open_children(uri: str) -> None:
    with mlflow.start_run() as parent:
        child = mlflow.start_run(nested=True)
    assert mlflow.active_run() is None
    assert mlflow.get_run(child.info.run_id).info.status == "FINISHED"
    assert mlflow.get_run(parent.info.run_id).info.status == "FINISHED"


def test_resume_a_run(uri: str) -> None:
    with mlflow.start_run() as run:
        mlflow.log_param("a", 1)
    with mlflow.start_run(run_id=run.info.run_id, tags={"resumed": "yes"}) as again:
        assert mlflow.get_run(run.info.run_id).info.status == "RUNNING"
        assert again.data.params == {"a": "1"}
        mlflow.log_metric("m", 2.0)
    stored = mlflow.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.tags["resumed"] == "yes"
    assert stored.data.metrics == {"m": 2.0}


def test_resume_errors(uri: str) -> None:
    with mlflow.start_run() as run:
        pass
    other = mlflow.create_experiment("other")
    with pytest.raises(MlflowException, match="belongs to experiment"):
        mlflow.start_run(run_id=run.info.run_id, experiment_id=other)
    mlflow.delete_run(run.info.run_id)
    with pytest.raises(MlflowException, match="deleted state"):
        mlflow.start_run(run_id=run.info.run_id)
    with pytest.raises(MlflowException) as info:
        mlflow.start_run(run_id="f" * 32)
    assert info.value.error_code == RESOURCE_DOES_NOT_EXIST
    assert mlflow.active_run() is None


def test_resume_from_environment(uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with mlflow.start_run() as run:
        pass
    monkeypatch.setenv("MLFLOW_RUN_ID", run.info.run_id)
    with mlflow.start_run() as again:
        assert again.info.run_id == run.info.run_id
    with mlflow.start_run() as fresh:  # the variable is consumed once
        assert fresh.info.run_id != run.info.run_id


def test_end_run_status_and_last_active_run(uri: str) -> None:
    assert mlflow.last_active_run() is None
    mlflow.end_run()  # nothing active: nothing happens
    run = mlflow.start_run()
    assert mlflow.last_active_run() is run
    mlflow.end_run("KILLED")
    last = mlflow.last_active_run()
    assert last is not None
    assert last.info.run_id == run.info.run_id
    assert last.info.status == "KILLED"


def test_logging_without_an_active_run_starts_one(uri: str) -> None:
    mlflow.log_param("alpha", 0.5)
    run = mlflow.active_run()
    assert run is not None
    mlflow.end_run()
    assert mlflow.get_run(run.info.run_id).data.params == {"alpha": "0.5"}


def test_logging_functions(uri: str) -> None:
    with mlflow.start_run() as run:
        assert mlflow.log_param("alpha", 0.1) == 0.1
        mlflow.log_params({f"p{i}": i for i in range(150)})  # more than one batch holds
        mlflow.log_metric("rmse", 7.5, step=3, timestamp=1000)
        mlflow.log_metrics({f"m{i}": float(i) for i in range(1200)}, step=2)
        mlflow.set_tag("developer", "cristian")
        mlflow.set_tags({f"t{i}": i for i in range(120)})
        mlflow.set_tag("temp", 1)
        mlflow.delete_tag("temp")
    data = mlflow.get_run(run.info.run_id).data
    assert len(data.params) == 151
    assert data.params["p149"] == "149"
    assert len(data.metrics) == 1201
    assert data.metrics["rmse"] == 7.5
    assert data.tags["developer"] == "cristian"
    assert data.tags["t119"] == "119"
    assert "temp" not in data.tags
    client = _client(uri)
    [point] = client.get_metric_history(run.info.run_id, "rmse")
    assert (point.step, point.timestamp) == (3, 1000)
    assert client.get_metric_history(run.info.run_id, "m7")[0].step == 2


def test_logging_to_an_explicit_run_id(uri: str) -> None:
    with mlflow.start_run() as run:
        pass
    mlflow.log_metric("x", 1.0, run_id=run.info.run_id)
    mlflow.log_params({"p": 1}, run_id=run.info.run_id)
    assert mlflow.active_run() is None
    data = mlflow.get_run(run.info.run_id).data
    assert (data.metrics, data.params) == ({"x": 1.0}, {"p": "1"})


def test_logging_reuses_the_run_client(uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with mlflow.start_run() as run:

        def no_resolution() -> str:
            raise AssertionError("the tracking URI was resolved while logging")

        # the client cache that resolves the URI lives in active_run (fluent re-exports it)
        monkeypatch.setattr(active_run, "get_tracking_uri", no_resolution)
        mlflow.log_metric("m", 1.0)
        mlflow.log_param("p", 1)
        mlflow.set_tag("t", 1)
        monkeypatch.undo()
    assert mlflow.get_run(run.info.run_id).data.metrics == {"m": 1.0}


def test_each_thread_has_its_own_run_stack(uri: str) -> None:
    seen: list[object] = []
    with mlflow.start_run() as main_run:

        def worker() -> None:
            seen.append(mlflow.active_run())
            with mlflow.start_run() as own:
                seen.append(own.info.run_id)

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert mlflow.active_run() is main_run
    assert seen[0] is None
    assert seen[1] != main_run.info.run_id


def test_delete_run(uri: str) -> None:
    with mlflow.start_run() as run:
        pass
    mlflow.delete_run(run.info.run_id)
    assert mlflow.get_run(run.info.run_id).info.lifecycle_stage == "deleted"


# -- artifacts -----------------------------------------------------------------------------
def test_artifact_functions(uri: str, tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "lin_reg.bin").write_bytes(b"model")
    with mlflow.start_run() as run:
        mlflow.log_artifact(local_path="models/lin_reg.bin", artifact_path="models_pickle")
        mlflow.log_artifacts(tmp_path / "models", "all_models")
        mlflow.log_text("text", "t.txt")
        mlflow.log_dict({"a": 1}, "d.json")
        figure = plt.figure()
        mlflow.log_figure(figure, "f.png")
        plt.close(figure)
        mlflow.log_image(np.ones((2, 2, 4)), "i.png")
        root_uri = mlflow.get_artifact_uri()
        assert mlflow.get_artifact_uri("models_pickle/lin_reg.bin") == (
            root_uri + "/models_pickle/lin_reg.bin"
        )
        with pytest.raises(MlflowException):
            mlflow.get_artifact_uri("../escape")
    assert root_uri == run.info.artifact_uri
    names = [f.path for f in _client(uri).list_artifacts(run.info.run_id)]
    assert names == ["all_models", "d.json", "f.png", "i.png", "models_pickle", "t.txt"]
    local = _client(uri).download_artifacts(run.info.run_id, "d.json")
    assert json.loads(Path(local).read_text()) == {"a": 1}


# -- asynchronous logging ------------------------------------------------------------------
def test_async_logging_through_the_fluent_api(uri: str) -> None:
    with mlflow.start_run() as run:
        handles = [
            mlflow.log_metric("loss", float(i), step=i, synchronous=False) for i in range(300)
        ]
        handles[-1].wait()  # type: ignore[union-attr]
        mlflow.log_params({"a": 1}, synchronous=False)
        mlflow.set_tags({"b": 2}, synchronous=False)
        mlflow.log_metrics({"c": 3.0}, synchronous=False)
        mlflow.set_tag("d", 4, synchronous=False)
        mlflow.log_param("e", 5, synchronous=False)
    stored = mlflow.get_run(run.info.run_id)
    assert stored.data.metrics == {"loss": 299.0, "c": 3.0}
    assert stored.data.params == {"a": "1", "e": "5"}
    assert stored.data.tags["b"] == "2"
    assert stored.data.tags["d"] == "4"
    assert len(_client(uri).get_metric_history(run.info.run_id, "loss")) == 300


def test_async_error_surfaces_at_end_run(uri: str) -> None:
    run = mlflow.start_run()
    mlflow.log_param("p", "1")
    mlflow.log_param("p", "2", synchronous=False)
    with pytest.raises(MlflowException) as info:
        mlflow.end_run()
    assert info.value.error_code == INVALID_PARAMETER_VALUE
    assert mlflow.active_run() is None
    assert mlflow.get_run(run.info.run_id).info.status == "FINISHED"


def test_async_error_surfaces_at_flush(uri: str) -> None:
    with mlflow.start_run():
        mlflow.log_param("p", "1")
        mlflow.log_param("p", "2", synchronous=False)
        with pytest.raises(MlflowException):
            mlflow.flush()
        mlflow.flush_async_logging()  # reported once


def test_async_error_does_not_hide_the_users_exception(uri: str) -> None:
    started: list[str] = []

    def train() -> None:
        with mlflow.start_run() as run:
            started.append(run.info.run_id)
            mlflow.log_param("p", "1")
            mlflow.log_param("p", "2", synchronous=False)
            raise KeyError("mine")

    with pytest.raises(KeyError, match="mine"):
        train()
    assert mlflow.get_run(started[0]).info.status == "FAILED"


# -- exit and the default store ------------------------------------------------------------
def _run_script(tmp_path: Path, body: str, env: dict[str, str] | None = None) -> str:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(body))
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_exit_flushes_the_queue_and_ends_the_run(uri: str, tmp_path: Path) -> None:
    out = _run_script(
        tmp_path,
        f"""
        import trackline as mlflow
        mlflow.set_tracking_uri({uri!r})
        run = mlflow.start_run()
        for i in range(2000):
            mlflow.log_metric("m", float(i), step=i, synchronous=False)
        print(run.info.run_id)
        """,
    )
    run_id = out.strip()
    stored = mlflow.get_run(run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.metrics == {"m": 1999.0}
    assert len(_client(uri).get_metric_history(run_id, "m")) == 2000


def test_default_store_is_the_mlruns_folder(tmp_path: Path) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.endswith("TRACKING_URI")}
    out = _run_script(
        tmp_path,
        """
        import trackline as mlflow
        print(mlflow.get_tracking_uri())
        with mlflow.start_run() as run:
            mlflow.log_text("hi", "hello.txt")
        print(run.info.artifact_uri)
        """,
        env=env,
    )
    tracking_uri, artifact_uri = out.split()
    assert tracking_uri == (tmp_path / "mlruns").resolve().as_uri()
    assert artifact_uri.startswith(tracking_uri + "/")
    assert (tmp_path / "mlruns").is_dir()
    hello = list((tmp_path / "mlruns").rglob("hello.txt"))
    assert len(hello) == 1
    assert hello[0].read_text() == "hi"
