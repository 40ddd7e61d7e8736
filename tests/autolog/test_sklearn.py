"""scikit-learn autologging: what a ``fit`` logs for regressors, classifiers, pipelines and
parameter searches, and the switches."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor

import trackline as mlflow

REGRESSOR_METRICS = {
    "training_mean_squared_error",
    "training_root_mean_squared_error",
    "training_mean_absolute_error",
    "training_r2_score",
    "training_score",
}
CLASSIFIER_METRICS = {
    "training_precision_score",
    "training_recall_score",
    "training_f1_score",
    "training_accuracy_score",
    "training_log_loss",
    "training_roc_auc",
    "training_score",
}


def _regression() -> tuple[Any, Any]:
    return make_regression(n_samples=80, n_features=4, noise=0.5, random_state=0)


def _classification() -> tuple[Any, Any]:
    return make_classification(n_samples=120, n_features=5, random_state=0)


def _only_run() -> Any:
    runs = mlflow.search_runs(output_format="list")
    assert len(runs) == 1
    return runs[0]


@pytest.mark.parametrize("backend", ["sqlite", "server"], indirect=True)
def test_regressor_fit_starts_logs_and_ends_a_run(backend: str) -> None:
    x, y = _regression()
    mlflow.sklearn.autolog()
    model = LinearRegression().fit(x, y)

    assert mlflow.active_run() is None
    run = _only_run()
    assert run.info.status == "FINISHED"
    assert run.data.params == {k: str(v) for k, v in model.get_params(deep=True).items()}
    assert set(run.data.metrics) == REGRESSOR_METRICS
    assert run.data.metrics["training_score"] == pytest.approx(model.score(x, y))
    assert run.data.metrics["training_root_mean_squared_error"] == pytest.approx(
        run.data.metrics["training_mean_squared_error"] ** 0.5
    )
    tags = run.data.tags
    assert tags["estimator_name"] == "LinearRegression"
    assert tags["estimator_class"] == "sklearn.linear_model._base.LinearRegression"
    assert tags["mlflow.autologging"] == "sklearn"
    (dataset,) = run.inputs.dataset_inputs
    assert (dataset.dataset.name, dataset.tags[0].value) == ("dataset", "train")
    assert len(dataset.dataset.digest) == 8
    client = mlflow.MlflowClient()
    assert [f.path for f in client.list_artifacts(run.info.run_id)] == ["estimator.html"]

    (output,) = run.outputs.model_outputs
    logged = client.get_logged_model(output.model_id)
    assert logged.name == "model"
    points = {m.key: m for m in logged.metrics}
    assert set(points) == REGRESSOR_METRICS
    assert points["training_score"].dataset_digest == dataset.dataset.digest
    loaded = mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_allclose(loaded.predict(x), model.predict(x))
    info = mlflow.models.get_model_info(f"models:/{output.model_id}")
    assert info.signature is not None  # inferred from the first rows of x


def test_classifier_metrics(sqlite_tracking: str) -> None:
    x, y = _classification()
    mlflow.sklearn.autolog(log_models=False)
    model = LogisticRegression().fit(x, y)
    run = _only_run()
    assert set(run.data.metrics) == CLASSIFIER_METRICS
    assert run.data.metrics["training_accuracy_score"] == pytest.approx(model.score(x, y))
    assert run.outputs.model_outputs == []


def test_a_pipeline_logs_once_with_its_steps_params(sqlite_tracking: str) -> None:
    x, y = _classification()
    mlflow.sklearn.autolog(log_models=False)
    pipeline = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(C=0.5))])
    pipeline.fit(x, y)
    run = _only_run()
    assert run.data.tags["estimator_name"] == "Pipeline"
    assert run.data.params["clf__C"] == "0.5"
    assert "scale__with_mean" in run.data.params
    assert set(run.data.metrics) == CLASSIFIER_METRICS


@pytest.mark.parametrize("backend", ["sqlite", "server"], indirect=True)
def test_grid_search_logs_best_and_one_child_run_per_candidate(backend: str) -> None:
    x, y = _classification()
    mlflow.sklearn.autolog()
    search = GridSearchCV(LogisticRegression(), {"C": [0.01, 0.1, 1, 10]}, cv=3)
    with mlflow.start_run() as parent:
        search.fit(x, y)

    run = mlflow.get_run(parent.info.run_id)
    assert run.data.params["best_C"] == str(search.best_params_["C"])
    assert run.data.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    assert run.data.tags["estimator_name"] == "GridSearchCV"
    assert "param_grid" in run.data.params
    client = mlflow.MlflowClient()
    artifacts = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert artifacts == {"cv_results.csv", "estimator.html"}
    names = sorted(client.get_logged_model(o.model_id).name for o in run.outputs.model_outputs)
    assert names == ["best_estimator", "model"]

    children = mlflow.search_runs(
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'", output_format="list"
    )
    assert len(children) == 4  # every candidate, below max_tuning_runs=5
    assert sorted(float(c.data.params["C"]) for c in children) == [0.01, 0.1, 1, 10]
    for child in children:
        assert child.info.status == "FINISHED"
        assert child.data.tags["estimator_name"] == "LogisticRegression"
        assert {"mean_test_score", "std_test_score", "rank_test_score"} <= set(child.data.metrics)
        assert not any(k.startswith(("param", "split")) for k in child.data.metrics)
    # the candidates' own fits were not logged as runs of their own
    assert len(mlflow.search_runs(output_format="list")) == 5


def test_max_tuning_runs_keeps_the_best(sqlite_tracking: str) -> None:
    x, y = _regression()
    mlflow.sklearn.autolog(max_tuning_runs=2, log_models=False)
    search = RandomizedSearchCV(
        DecisionTreeRegressor(random_state=0),
        {"max_depth": [1, 2, 3, 4, 5]},
        n_iter=5,
        cv=2,
        random_state=0,
    )
    search.fit(x, y)
    parent = mlflow.last_active_run()
    assert parent is not None
    children = mlflow.search_runs(
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'", output_format="list"
    )
    assert sorted(c.data.metrics["rank_test_score"] for c in children) == [1.0, 2.0]
    best = next(c for c in children if c.data.metrics["rank_test_score"] == 1.0)
    assert best.data.params["max_depth"] == str(search.best_params_["max_depth"])


def test_disable_puts_the_originals_back(sqlite_tracking: str) -> None:
    fit, pipeline_fit = LinearRegression.fit, Pipeline.fit
    mlflow.sklearn.autolog()
    assert LinearRegression.fit is not fit
    mlflow.sklearn.autolog(disable=True)
    assert LinearRegression.fit is fit
    assert Pipeline.fit is pipeline_fit
    assert "fit" not in vars(GridSearchCV)  # inherited again, not left patched
    LinearRegression().fit(*_regression())
    assert mlflow.search_runs(output_format="list") == []


def test_preprocessing_alone_is_not_logged(sqlite_tracking: str) -> None:
    mlflow.sklearn.autolog()
    StandardScaler().fit_transform(_regression()[0])
    assert mlflow.search_runs(output_format="list") == []


def test_own_failure_is_a_warning_and_fit_goes_on(
    sqlite_tracking: str, caplog: pytest.LogCaptureFixture
) -> None:
    x, y = _regression()
    mlflow.sklearn.autolog(log_models=False)
    with mlflow.start_run() as run:
        mlflow.log_param("fit_intercept", "sometimes")  # conflicts with autolog's "True"
        with caplog.at_level(logging.WARNING, logger="trackline.autolog"):
            model = LinearRegression().fit(x, y)
    assert model.coef_.shape == (4,)
    assert any("could not log the estimator's params" in r.getMessage() for r in caplog.records)
    assert set(mlflow.get_run(run.info.run_id).data.metrics) == REGRESSOR_METRICS


def test_silent(sqlite_tracking: str, caplog: pytest.LogCaptureFixture) -> None:
    x, y = _regression()
    mlflow.sklearn.autolog(log_models=False, silent=True)
    with mlflow.start_run():
        mlflow.log_param("fit_intercept", "sometimes")
        with caplog.at_level(logging.DEBUG, logger="trackline.autolog"):
            LinearRegression().fit(x, y)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_the_users_error_propagates_and_fails_the_run(sqlite_tracking: str) -> None:
    x, y = _regression()
    x[0, 0] = np.nan
    mlflow.sklearn.autolog()
    with pytest.raises(ValueError, match="NaN"):
        LinearRegression().fit(x, y)
    run = _only_run()
    assert run.info.status == "FAILED"
    assert mlflow.active_run() is None
