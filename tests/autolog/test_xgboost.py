"""XGBoost autologging: the notes' ``mlflow.xgboost.autolog()`` around ``xgb.train`` (embedded
and against a server), exactly what it logs, and its switches."""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from tests.autolog.conftest import CountingTransport

import trackline as mlflow
from trackline.autolog import xgboost as autolog_xgboost
from trackline.entities import LoggedModelStatus

# The notes' best params (objective "reg:linear" is XGBoost's old name of this one).
BEST_PARAMS = {
    "learning_rate": 0.09585355369315604,
    "max_depth": 30,
    "min_child_weight": 1.060597050922164,
    "objective": "reg:squarederror",
    "reg_alpha": 0.018060244040060163,
    "reg_lambda": 0.011658731377413597,
    "seed": 42,
}
TRAIN_ARGUMENTS = {
    "num_boost_round": "1000",
    "early_stopping_rounds": "50",
    "maximize": "None",
    "verbose_eval": "True",
    "custom_metric": "None",
}


def _data(rows: int = 300, cols: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, cols))
    y = x @ np.arange(1, cols + 1) + np.sin(3 * x[:, 0]) + rng.normal(scale=0.3, size=rows)
    return x, y


def _matrices() -> tuple[xgb.DMatrix, xgb.DMatrix]:
    x, y = _data()
    x_val, y_val = _data(100, seed=1)
    return xgb.DMatrix(x, label=y), xgb.DMatrix(x_val, label=y_val)


def _notes_training(train: xgb.DMatrix, valid: xgb.DMatrix) -> xgb.Booster:
    # The notes: "Autologging", verbatim but for the data.
    return xgb.train(
        params=BEST_PARAMS,
        dtrain=train,
        num_boost_round=1000,
        evals=[(valid, "validation")],
        early_stopping_rounds=50,
    )


def _download_text(run_id: str, path: str, tmp_path: Path) -> str:
    local = mlflow.MlflowClient().download_artifacts(run_id, path, str(tmp_path))
    return Path(local).read_text()


@pytest.mark.parametrize("backend", ["sqlite", "server"], indirect=True)
def test_notes_autolog_logs_exactly_this(backend: str, tmp_path: Path) -> None:
    mlflow.set_experiment("nyc-taxi-experiment")
    train, valid = _matrices()
    mlflow.xgboost.autolog()

    booster = _notes_training(train, valid)

    assert mlflow.active_run() is None  # the run autolog started is over
    client = mlflow.MlflowClient()
    run = mlflow.last_active_run()
    assert run is not None
    run_id = run.info.run_id
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.autologging"] == "xgboost"
    assert run.data.params == {k: str(v) for k, v in BEST_PARAMS.items()} | TRAIN_ARGUMENTS

    rounds = booster.num_boosted_rounds()
    best = booster.best_iteration
    assert rounds < 1000  # early stopping stopped it
    history = client.get_metric_history(run_id, "validation-rmse")
    assert [m.step for m in history] == [*range(rounds), rounds]
    assert history[-1].value == history[best].value
    assert run.data.metrics["stopped_iteration"] == rounds - 1
    assert run.data.metrics["best_iteration"] == best
    assert run.data.metrics["validation-rmse"] == history[best].value
    assert set(run.data.metrics) == {"validation-rmse", "stopped_iteration", "best_iteration"}

    artifacts = {f.path for f in client.list_artifacts(run_id)}
    assert artifacts == {"feature_importance_weight.json", "feature_importance_weight.png"}
    importance = json.loads(_download_text(run_id, "feature_importance_weight.json", tmp_path))
    assert importance == booster.get_score(importance_type="weight")
    png = Path(client.download_artifacts(run_id, "feature_importance_weight.png", str(tmp_path)))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    inputs = [(d.dataset.name, d.tags[0].value) for d in run.inputs.dataset_inputs]
    assert sorted(inputs) == [("dataset", "train"), ("validation", "eval")]

    (output,) = run.outputs.model_outputs
    model = client.get_logged_model(output.model_id)
    assert (model.name, model.status, model.source_run_id) == (
        "model",
        LoggedModelStatus.READY,
        run_id,
    )
    assert model.params["learning_rate"] == str(BEST_PARAMS["learning_rate"])
    model_points = [m for m in model.metrics if m.key == "validation-rmse"]
    assert len(model_points) == rounds + 1
    assert {m.model_id for m in model_points} == {model.model_id}

    expected = booster.predict(valid)
    loaded = mlflow.xgboost.load_model(f"runs:/{run_id}/model")
    np.testing.assert_allclose(loaded.predict(valid), expected)
    pyfunc = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    np.testing.assert_allclose(pyfunc.predict(_data(100, seed=1)[0]), expected, rtol=1e-6)


def test_logs_into_the_active_run_and_leaves_it_open(sqlite_tracking: str) -> None:
    train, valid = _matrices()
    mlflow.xgboost.autolog()
    with mlflow.start_run() as run:
        mlflow.set_tag("model", "xgboost")
        booster = xgb.train(BEST_PARAMS, train, 20, evals=[(train, "train"), (valid, "valid")])
        assert mlflow.active_run() is not None
        assert mlflow.active_run().info.run_id == run.info.run_id  # type: ignore[union-attr]
    logged = mlflow.get_run(run.info.run_id)
    assert logged.data.tags["model"] == "xgboost"
    assert "mlflow.autologging" not in logged.data.tags  # the user's run, not autolog's
    assert set(logged.data.metrics) == {"train-rmse", "valid-rmse"}
    client = mlflow.MlflowClient()
    assert len(client.get_metric_history(run.info.run_id, "train-rmse")) == 20
    assert booster.num_boosted_rounds() == 20
    assert len(mlflow.search_runs(output_format="list")) == 1


def test_metrics_are_sent_in_batches(
    counted_server: CountingTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Batches also leave every few seconds; a slow (loaded) machine must not add any here.
    monkeypatch.setattr(autolog_xgboost, "_FLUSH_SECONDS", 3600.0)
    train, valid = _matrices()
    mlflow.xgboost.autolog(log_models=False)
    xgb.train(BEST_PARAMS, train, 300, evals=[(train, "train"), (valid, "valid")])
    run = mlflow.last_active_run()
    assert run is not None
    client = mlflow.MlflowClient()
    assert len(client.get_metric_history(run.info.run_id, "valid-rmse")) == 300
    # 600 points: one batch of metrics, one of params; far from one request per round
    assert counted_server.paths["runs/log-batch"] <= 3
    assert counted_server.paths["runs/log-metric"] == 0


def test_storing_the_metrics_never_holds_up_training(
    sqlite_tracking: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Another connection holds the database's write lock from the first iteration to the
    # last, and a batch leaves at every iteration: training must go on all the same (the
    # client's background writer waits for the lock, not the training loop), and every point
    # be stored once xgb.train has returned.
    monkeypatch.setattr(autolog_xgboost, "_FLUSH_SECONDS", 0.0)
    train, valid = _matrices()
    rounds = 20

    class HoldTheDatabase(xgb.callback.TrainingCallback):  # type: ignore[misc]
        """Runs before autolog's own callback at each iteration (callbacks run in order)."""

        def before_training(self, model: Any) -> Any:
            self.db = sqlite3.connect(tmp_path / "trackline.db", isolation_level=None)
            self.db.execute("BEGIN IMMEDIATE")  # the write lock, held while training
            return model

        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            if epoch == rounds - 1:
                self.db.execute("ROLLBACK")
                self.db.close()
            return False

    mlflow.xgboost.autolog(log_models=False, log_datasets=False, importance_types=[])
    with caplog.at_level(logging.WARNING, logger="trackline.autolog"):
        xgb.train(
            BEST_PARAMS,
            train,
            rounds,
            evals=[(valid, "valid")],
            callbacks=[HoldTheDatabase()],
            verbose_eval=False,
        )
    assert [r.getMessage() for r in caplog.records] == []
    run = mlflow.last_active_run()
    assert run is not None
    history = mlflow.MlflowClient().get_metric_history(run.info.run_id, "valid-rmse")
    assert [m.step for m in history] == list(range(rounds))


def test_metrics_that_come_and_go_keep_their_steps(sqlite_tracking: str) -> None:
    # XGBoost's evaluation log has the same metrics at every iteration; should one appear
    # late or skip an iteration, each point must still land at its own step.
    from trackline.autolog.patching import AutologConfig, Session

    with mlflow.start_run() as run:
        session = Session("xgboost", AutologConfig(), xgb.train)
        sink = autolog_xgboost._MetricSink(session, None)
        for epoch in range(5):
            log: dict[str, dict[str, list[float]]] = {"valid": {"rmse": [10.0 + epoch]}}
            if epoch >= 1:  # appears at the second iteration
                log["valid"]["mae@1"] = [20.0 + epoch]
            if epoch != 3:  # absent from the fourth
                log["train"] = {"rmse": [30.0 + epoch]}
            sink.record(epoch, log)
        sink.finish()
        assert sink.row(3) == {"valid-rmse": 13.0, "valid-mae_at_1": 23.0}
        assert sink.row(0) == {"valid-rmse": 10.0, "train-rmse": 30.0}
    client = mlflow.MlflowClient()
    steps = {
        key: [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, key)]
        for key in ("valid-rmse", "valid-mae_at_1", "train-rmse")
    }
    assert steps == {
        "valid-rmse": [(e, 10.0 + e) for e in range(5)],
        "valid-mae_at_1": [(e, 20.0 + e) for e in range(1, 5)],
        "train-rmse": [(e, 30.0 + e) for e in (0, 1, 2, 4)],
    }


def test_disable_puts_the_originals_back(sqlite_tracking: str) -> None:
    original_train, original_init = xgb.train, xgb.DMatrix.__init__
    mlflow.xgboost.autolog()
    assert xgb.train is not original_train
    mlflow.xgboost.autolog(disable=True)
    assert xgb.train is original_train
    assert xgb.DMatrix.__init__ is original_init
    train, _ = _matrices()
    xgb.train(BEST_PARAMS, train, 5)
    assert mlflow.last_active_run() is None
    assert mlflow.search_runs(output_format="list") == []


def test_log_models_false_logs_no_model(sqlite_tracking: str) -> None:
    train, valid = _matrices()
    mlflow.xgboost.autolog(log_models=False, log_datasets=False, importance_types=[])
    xgb.train(BEST_PARAMS, train, 10, evals=[(valid, "validation")])
    run = mlflow.last_active_run()
    assert run is not None
    assert run.outputs.model_outputs == []
    assert run.inputs.dataset_inputs == []
    assert mlflow.MlflowClient().list_artifacts(run.info.run_id) == []
    assert mlflow.MlflowClient().search_logged_models([run.info.experiment_id]) == []
    assert "validation-rmse" in run.data.metrics


def test_importance_types_and_no_plot_without_matplotlib(
    sqlite_tracking: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # as if not installed
    train, _ = _matrices()
    mlflow.xgboost.autolog(importance_types=["weight", "gain"], log_models=False)
    xgb.train(BEST_PARAMS, train, 5)
    run = mlflow.last_active_run()
    assert run is not None
    paths = {f.path for f in mlflow.MlflowClient().list_artifacts(run.info.run_id)}
    assert paths == {"feature_importance_weight.json", "feature_importance_gain.json"}


def test_signature_when_the_dmatrix_is_built_after_autolog(sqlite_tracking: str) -> None:
    mlflow.xgboost.autolog(log_input_examples=True)
    x, y = _data()
    xgb.train(BEST_PARAMS, xgb.DMatrix(x, label=y), 5)
    run = mlflow.last_active_run()
    assert run is not None
    info = mlflow.models.get_model_info(f"runs:/{run.info.run_id}/model")
    assert info.signature is not None
    assert info.signature.inputs.to_dict() == [
        {"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 5]}}
    ]
    assert info.saved_input_example_info is not None


def test_own_failure_is_a_warning_and_training_goes_on(
    sqlite_tracking: str, caplog: pytest.LogCaptureFixture
) -> None:
    train, valid = _matrices()
    mlflow.xgboost.autolog(log_models=False)
    with mlflow.start_run() as run:
        mlflow.log_param("max_depth", "3")  # autolog's max_depth=30 now conflicts
        with caplog.at_level(logging.WARNING, logger="trackline.autolog"):
            booster = xgb.train(BEST_PARAMS, train, 10, evals=[(valid, "validation")])
    assert booster.num_boosted_rounds() == 10
    assert any("could not log the params" in r.getMessage() for r in caplog.records)
    logged = mlflow.get_run(run.info.run_id)
    assert logged.data.params == {"max_depth": "3"}
    assert "validation-rmse" in logged.data.metrics  # the rest was logged


def test_silent_logs_no_warning(sqlite_tracking: str, caplog: pytest.LogCaptureFixture) -> None:
    train, _ = _matrices()
    mlflow.xgboost.autolog(log_models=False, silent=True)
    with mlflow.start_run():
        mlflow.log_param("max_depth", "3")
        with caplog.at_level(logging.DEBUG, logger="trackline.autolog"):
            xgb.train(BEST_PARAMS, train, 3)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_the_users_error_propagates_and_fails_the_run(sqlite_tracking: str) -> None:
    train, _ = _matrices()
    mlflow.xgboost.autolog()
    with pytest.raises(xgb.core.XGBoostError, match="no_such_objective"):
        xgb.train({"objective": "no_such_objective"}, train, 3)
    run = mlflow.last_active_run()
    assert run is not None
    assert run.info.status == "FAILED"
    assert mlflow.active_run() is None
    (model,) = mlflow.MlflowClient().search_logged_models([run.info.experiment_id])
    assert model.status == LoggedModelStatus.FAILED


def test_exclusive_skips_user_runs(sqlite_tracking: str) -> None:
    train, _ = _matrices()
    mlflow.xgboost.autolog(exclusive=True)
    with mlflow.start_run() as run:
        xgb.train(BEST_PARAMS, train, 3)
    assert mlflow.get_run(run.info.run_id).data.params == {}


def test_extra_tags(sqlite_tracking: str) -> None:
    train, _ = _matrices()
    mlflow.xgboost.autolog(log_models=False, extra_tags={"team": "ml", "mlflow.autologging": "x"})
    xgb.train(BEST_PARAMS, train, 3)
    run: Any = mlflow.last_active_run()
    assert run.data.tags["team"] == "ml"
    assert run.data.tags["mlflow.autologging"] == "xgboost"


def test_the_scikit_learn_api(sqlite_tracking: str) -> None:
    x, y = _data()
    x_val, y_val = _data(100, seed=1)
    mlflow.xgboost.autolog()
    model = xgb.XGBRegressor(n_estimators=200, max_depth=3, early_stopping_rounds=10)
    model.fit(x, y, eval_set=[(x_val, y_val)], verbose=False)

    run = mlflow.last_active_run()
    assert run is not None
    assert run.info.status == "FINISHED"
    assert run.data.tags["estimator_name"] == "XGBRegressor"
    assert run.data.params["max_depth"] == "3"
    assert run.data.params["num_boost_round"] == "200"
    assert run.data.params["early_stopping_rounds"] == "10"
    rounds = len(model.evals_result()["validation_0"]["rmse"])
    history = mlflow.MlflowClient().get_metric_history(run.info.run_id, "validation_0-rmse")
    assert [m.step for m in history] == [*range(rounds), rounds]
    assert run.data.metrics["best_iteration"] == model.best_iteration
    inputs = sorted((d.dataset.name, d.tags[0].value) for d in run.inputs.dataset_inputs)
    assert inputs == [("dataset", "train"), ("validation_0", "eval")]
    loaded = mlflow.xgboost.load_model(f"runs:/{run.info.run_id}/model")
    assert isinstance(loaded, xgb.XGBRegressor)
    np.testing.assert_allclose(loaded.predict(x_val), model.predict(x_val))
    assert len(mlflow.search_runs(output_format="list")) == 1  # the inner train() logged nothing
