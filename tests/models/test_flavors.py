"""The scikit-learn and XGBoost flavors' own behaviour, and the log_model sequence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import trackline
import trackline.sklearn
import trackline.xgboost
from trackline.entities import LoggedModelStatus
from trackline.exceptions import InvalidParameterValue, MlflowException

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:xgboost.*")


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, Any]:
    rng = np.random.default_rng(3)
    x = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)})
    return x, (x["a"] > 0).astype(int).to_numpy()


def test_sklearn_formats_and_files(data: Any, tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = data
    model = LogisticRegression().fit(x, y)
    formats = (("skops", "model.skops"), ("cloudpickle", "model.pkl"), ("pickle", "model.pkl"))
    for fmt, file in formats:
        folder = tmp_path / fmt
        trackline.sklearn.save_model(model, folder, serialization_format=fmt)
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            ["MLmodel", "conda.yaml", "python_env.yaml", "requirements.txt", file]
        )
        mlmodel = yaml.safe_load((folder / "MLmodel").read_text())
        assert mlmodel["flavors"]["sklearn"]["serialization_format"] == fmt
        assert mlmodel["flavors"]["python_function"]["model_path"] == file
        requirements = (folder / "requirements.txt").read_text().splitlines()
        assert any(r.startswith("scikit-learn==") for r in requirements)
        assert any(r.startswith(f"{fmt}==") for r in requirements) == (fmt != "pickle")
        loaded = trackline.pyfunc.load_model(str(folder))
        np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
        np.testing.assert_allclose(loaded._model_impl.predict_proba(x), model.predict_proba(x))
        assert loaded.get_raw_model().__class__ is LogisticRegression
    with pytest.raises(InvalidParameterValue, match="Unrecognized serialization format"):
        trackline.sklearn.save_model(model, tmp_path / "x", serialization_format="joblib")


def test_skops_refuses_untrusted_types_unless_trusted(data: Any, tmp_path: Path) -> None:
    from sklearn.tree import DecisionTreeClassifier

    x, y = data
    tree = DecisionTreeClassifier(max_depth=2).fit(x, y)
    with pytest.raises(InvalidParameterValue, match=r"sklearn\.tree\._tree\.Tree"):
        trackline.sklearn.save_model(tree, tmp_path / "a", serialization_format="skops")
    trusted = ["sklearn.tree._tree.Tree"]
    trackline.sklearn.save_model(
        tree, tmp_path / "b", serialization_format="skops", skops_trusted_types=trusted
    )
    loaded = trackline.sklearn.load_model(str(tmp_path / "b"))
    np.testing.assert_array_equal(loaded.predict(x), tree.predict(x))


def test_pickle_loading_can_be_forbidden(
    data: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.linear_model import LinearRegression

    x, y = data
    trackline.sklearn.save_model(LinearRegression().fit(x, y), tmp_path / "m",
                                 serialization_format="pickle")  # fmt: skip
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
    with pytest.raises(MlflowException, match="MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false"):
        trackline.sklearn.load_model(str(tmp_path / "m"))


def test_xgboost_formats_and_classes(data: Any, tmp_path: Path) -> None:
    import xgboost as xgb

    x, y = data
    classifier = xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(x, y)
    for model_format in ("ubj", "json"):
        folder = tmp_path / model_format
        trackline.xgboost.save_model(classifier, folder, model_format=model_format)
        conf = yaml.safe_load((folder / "MLmodel").read_text())["flavors"]["xgboost"]
        assert conf["data"] == f"model.{model_format}"
        assert conf["model_class"] == "xgboost.sklearn.XGBClassifier"
        assert conf["xgb_version"] == xgb.__version__
        loaded = trackline.xgboost.load_model(str(folder))
        assert isinstance(loaded, xgb.XGBClassifier)
        np.testing.assert_allclose(loaded.predict_proba(x), classifier.predict_proba(x))
    with pytest.raises(InvalidParameterValue, match="Unknown model_format"):
        trackline.xgboost.save_model(classifier, tmp_path / "bad", model_format="pkl")
    with pytest.raises(InvalidParameterValue, match="Expected an xgboost Booster"):
        trackline.xgboost.save_model(object(), tmp_path / "bad2")


def test_a_failed_upload_marks_the_model_failed(
    sqlite_tracking: str, data: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.linear_model import LinearRegression

    from trackline.artifacts.local import LocalArtifactRepository

    x, y = data

    def broken(self: Any, local_dir: Any, artifact_path: Any = None) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(LocalArtifactRepository, "log_artifacts", broken)
    with trackline.start_run(), pytest.raises(OSError, match="disk full"):
        trackline.sklearn.log_model(LinearRegression().fit(x, y), name="model")
    client = trackline.MlflowClient()
    experiment = client.get_experiment_by_name("Default")
    assert experiment is not None
    models = client._sync().search_logged_models([experiment.experiment_id])
    assert [m.status for m in models] == [LoggedModelStatus.FAILED]


def test_log_model_copies_only_the_metrics_of_its_step(sqlite_tracking: str, data: Any) -> None:
    import xgboost as xgb

    x, y = data
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(x, label=y), 3)
    with trackline.start_run() as run:
        trackline.log_metrics({"rmse": 1.0, "mae": 0.5}, step=0)
        trackline.log_metric("rmse", 0.8, step=1)
        first = trackline.xgboost.log_model(booster, name="m0")
        second = trackline.xgboost.log_model(booster, name="m1", step=1)
    assert sorted((m.key, m.value) for m in first.metrics or []) == [("mae", 0.5), ("rmse", 1.0)]
    assert [(m.key, m.value) for m in second.metrics or []] == [("rmse", 0.8)]
    outputs = trackline.get_run(run.info.run_id).outputs.model_outputs
    assert sorted((o.model_id, o.step) for o in outputs) == sorted(
        [(first.model_id, 0), (second.model_id, 1)]
    )
    # the run's own metric history is unchanged by the copies
    history = trackline.MlflowClient().get_metric_history(run.info.run_id, "rmse")
    assert [(p.value, p.step) for p in history if p.model_id is None] == [(1.0, 0), (0.8, 1)]
