"""Acceptance: the notes' model sections with ``import trackline as mlflow``, embedded (SQLite,
PostgreSQL) and against a tracking server in process.

The passages followed (``/work/shared/seeds``): logging a pickled model with
``log_artifact``; ``mlflow.xgboost.log_model(booster, artifact_path="models_mlflow")`` beside
``log_artifact("models/preprocessor.b", artifact_path="preprocessor")``; "Making predictions"
with ``pyfunc.load_model(logged_model)`` and ``xgboost.load_model(logged_model)``;
``mlflow.sklearn.log_model(model, "model")`` and ``sklearn.load_model(f"runs:/{run_id}/model")``;
``client.download_artifacts(run_id=run_id, path='preprocessor', dst_path='.')``; and
``pyfunc.load_model(f"models:/{name}/{stage}")`` after registering. Data is small and
synthetic (taxi-like trips: pickup/dropoff zones and a distance).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import trackline as mlflow
from trackline.entities import LoggedModelStatus
from trackline.exceptions import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_DOES_NOT_EXIST,
    MlflowException,
)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:xgboost.*")


def _trips(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "PULocationID": rng.integers(1, 20, n).astype(str),
            "DOLocationID": rng.integers(1, 20, n).astype(str),
            "trip_distance": rng.uniform(0.5, 15.0, n),
        }
    )
    frame["duration"] = 3.0 * frame["trip_distance"] + rng.normal(0, 1.0, n)
    return frame


def _dicts(frame: pd.DataFrame) -> list[dict[str, Any]]:
    frame = frame.copy()
    frame["PU_DO"] = frame["PULocationID"] + "_" + frame["DOLocationID"]
    records: list[dict[str, Any]] = frame[["PU_DO", "trip_distance"]].to_dict(orient="records")
    return records


@pytest.fixture
def taxi() -> tuple[Any, Any, Any, Any, Any]:
    """(DictVectorizer, X_train, y_train, X_val, y_val) as in the notes' preprocessing."""
    from sklearn.feature_extraction import DictVectorizer

    train, valid = _trips(300, 1), _trips(100, 2)
    dv = DictVectorizer()
    x_train = dv.fit_transform(_dicts(train))
    x_val = dv.transform(_dicts(valid))
    return dv, x_train, train["duration"].to_numpy(), x_val, valid["duration"].to_numpy()


def _dense(taxi: Any) -> tuple[Any, Any, Any, Any]:
    """X_train, y_train, X_val, y_val with dense features (scikit-learn's linear models take
    only 32-bit sparse indices)."""
    _, x_train, y_train, x_val, y_val = taxi
    return x_train.toarray(), y_train, x_val.toarray(), y_val


def _rmse(y_true: Any, y_pred: Any) -> float:
    return float(np.sqrt(np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2)))


def test_log_artifact_of_a_pickled_model(backend: str, taxi: Any, tmp_path: Path) -> None:
    from sklearn.linear_model import Lasso

    x_train, y_train, x_val, y_val = _dense(taxi)
    mlflow.set_experiment("nyc-taxi-experiment")
    Path("models").mkdir()
    with mlflow.start_run() as run:
        mlflow.set_tag("developer", "cristian")
        alpha = 0.1
        mlflow.log_param("alpha", alpha)
        lr = Lasso(alpha).fit(x_train, y_train)
        mlflow.log_metric("rmse", _rmse(y_val, lr.predict(x_val)))
        with open("models/lin_reg.bin", "wb") as f_out:
            pickle.dump(lr, f_out)
        mlflow.log_artifact(local_path="models/lin_reg.bin", artifact_path="models_pickle")

    client = mlflow.MlflowClient()
    assert [f.path for f in client.list_artifacts(run.info.run_id)] == ["models_pickle"]
    dst = tmp_path / "downloaded"
    dst.mkdir()
    got = client.download_artifacts(run.info.run_id, "models_pickle/lin_reg.bin", str(dst))
    with open(got, "rb") as f_in:
        loaded = pickle.load(f_in)
    np.testing.assert_allclose(loaded.predict(x_val), lr.predict(x_val))


def test_xgboost_model_beside_the_preprocessor(backend: str, taxi: Any, tmp_path: Path) -> None:
    import xgboost as xgb

    dv, x_train, y_train, x_val, y_val = taxi
    train = xgb.DMatrix(x_train, label=y_train)
    valid = xgb.DMatrix(x_val, label=y_val)
    mlflow.set_experiment("nyc-taxi-experiment")
    Path("models").mkdir()
    with mlflow.start_run() as run:
        best_params = {
            "learning_rate": 0.29,
            "max_depth": 6,
            "min_child_weight": 1.08,
            "objective": "reg:squarederror",
            "reg_alpha": 0.07,
            "reg_lambda": 0.015,
            "seed": 42,
        }
        mlflow.log_params(best_params)
        booster = xgb.train(
            params=best_params,
            dtrain=train,
            num_boost_round=40,
            evals=[(valid, "validation")],
            early_stopping_rounds=50,
            verbose_eval=False,
        )
        y_pred = booster.predict(valid)
        mlflow.log_metric("rmse", _rmse(y_val, y_pred))
        with open("models/preprocessor.b", "wb") as f_out:
            pickle.dump(dv, f_out)
        mlflow.log_artifact("models/preprocessor.b", artifact_path="preprocessor")
        info = mlflow.xgboost.log_model(booster, artifact_path="models_mlflow")
    run_id = run.info.run_id

    # the logged model: first-class, with the run's params and metrics, READY
    client = mlflow.MlflowClient()
    logged = client._sync().get_logged_model(info.model_id)
    assert logged.name == "models_mlflow"
    assert logged.status is LoggedModelStatus.READY
    assert logged.source_run_id == run_id
    assert logged.params == {k: str(v) for k, v in best_params.items()}
    assert [(m.key, m.model_id) for m in logged.metrics] == [("rmse", info.model_id)]
    assert info.model_uri == f"models:/{info.model_id}"
    assert info.run_id == run_id
    assert set(info.flavors) == {"python_function", "xgboost"}
    assert info.flavors["xgboost"]["model_format"] == "ubj"
    outputs = mlflow.get_run(run_id).outputs.model_outputs
    assert [o.model_id for o in outputs] == [info.model_id]
    names = {f.path.rpartition("/")[2] for f in client._artifact_repository(
        logged.artifact_location).list_artifacts()}  # fmt: skip
    assert names == {"MLmodel", "conda.yaml", "model.ubj", "python_env.yaml", "requirements.txt"}

    # "Making predictions"
    logged_model = f"runs:/{run_id}/models_mlflow"
    loaded_model = mlflow.pyfunc.load_model(logged_model)
    assert "flavor: mlflow.xgboost" in repr(loaded_model)
    np.testing.assert_allclose(loaded_model.predict(x_val), y_pred)
    dense = pd.DataFrame(x_val.toarray())  # zeros are values here, not missing ones
    np.testing.assert_allclose(loaded_model.predict(dense), booster.predict(xgb.DMatrix(dense)))
    xgboost_model = mlflow.xgboost.load_model(logged_model)
    assert isinstance(xgboost_model, xgb.Booster)
    np.testing.assert_allclose(xgboost_model.predict(valid), y_pred)
    np.testing.assert_allclose(mlflow.pyfunc.load_model(info.model_uri).predict(x_val), y_pred)

    # the preprocessor, downloaded as in the registry section
    got = client.download_artifacts(run_id=run_id, path="preprocessor", dst_path=".")
    assert Path(got) == (tmp_path / "preprocessor").resolve()
    with open(Path(got) / "preprocessor.b", "rb") as f_in:
        preprocessor = pickle.load(f_in)
    again = preprocessor.transform(_dicts(_trips(100, 2)))
    np.testing.assert_allclose(xgboost_model.predict(xgb.DMatrix(again)), y_pred)


def test_sklearn_log_model_and_load_by_run(backend: str, taxi: Any) -> None:
    from sklearn.linear_model import Lasso

    x_train, y_train, x_val, _ = _dense(taxi)
    mlflow.set_experiment("nyc-taxi-experiment")
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", 0.01)
        model = Lasso(alpha=0.01).fit(x_train, y_train)
        info = mlflow.sklearn.log_model(model, "model")
    run_id = run.info.run_id
    assert info.flavors["sklearn"]["serialization_format"] in ("skops", "cloudpickle", "pickle")
    loaded = mlflow.sklearn.load_model(f"runs:/{run_id}/model")
    assert isinstance(loaded, Lasso)
    np.testing.assert_allclose(loaded.predict(x_val), model.predict(x_val))
    pyfunc_model = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    np.testing.assert_allclose(pyfunc_model.predict(x_val), model.predict(x_val))
    assert pyfunc_model.model_id == info.model_id
    assert pyfunc_model.metadata.run_id == run_id


def test_signature_from_the_input_example_is_enforced(backend: str) -> None:
    from sklearn.linear_model import LinearRegression

    frame = _trips(60, 3)
    features = frame[["trip_distance"]].assign(passengers=np.arange(60) % 4)
    model = LinearRegression().fit(features, frame["duration"])
    mlflow.set_experiment("signatures")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="model", input_example=features.head(3))
    assert info.signature is not None
    assert info.signature.inputs.to_dict() == [
        {"type": "double", "name": "trip_distance", "required": True},
        {"type": "long", "name": "passengers", "required": True},
    ]
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    pd.testing.assert_frame_equal(loaded.input_example, features.head(3))
    np.testing.assert_allclose(loaded.predict(features), model.predict(features))
    # int32 passengers are safely widened; a dict of lists is read as columns
    widened = features.astype({"passengers": "int32"})
    np.testing.assert_allclose(loaded.predict(widened), model.predict(features))
    as_dict = {"trip_distance": [1.0, 2.0], "passengers": [1, 2]}
    assert len(loaded.predict(as_dict)) == 2

    with pytest.raises(MlflowException, match=r"missing inputs \['passengers'\]") as missing:
        loaded.predict(features[["trip_distance"]])
    assert missing.value.error_code == INVALID_PARAMETER_VALUE
    with pytest.raises(MlflowException, match=r"column passengers.*float64 to int64"):
        loaded.predict(features.assign(passengers=features["passengers"] + 0.5))


def test_registered_versions_load_by_stage_and_alias(backend: str, taxi: Any) -> None:
    from sklearn.linear_model import Lasso

    x_train, y_train, x_val, _ = _dense(taxi)
    mlflow.set_experiment("nyc-taxi-experiment")
    models = []
    for alpha in (0.01, 0.5):
        with mlflow.start_run():
            model = Lasso(alpha=alpha).fit(x_train, y_train)
            info = mlflow.sklearn.log_model(
                model, name="model", registered_model_name="nyc-taxi-regressor"
            )
            models.append((model, info))
    assert [info.registered_model_version for _, info in models] == [1, 2]
    client = mlflow.MlflowClient()
    client.transition_model_version_stage("nyc-taxi-regressor", "1", "Production")
    client.set_registered_model_alias("nyc-taxi-regressor", "champion", "2")

    def predictions(uri: str) -> Any:
        return mlflow.pyfunc.load_model(uri).predict(x_val)

    first, second = (m.predict(x_val) for m, _ in models)
    np.testing.assert_allclose(predictions("models:/nyc-taxi-regressor/Production"), first)
    np.testing.assert_allclose(predictions("models:/nyc-taxi-regressor/production"), first)
    np.testing.assert_allclose(predictions("models:/nyc-taxi-regressor@champion"), second)
    np.testing.assert_allclose(predictions("models:/nyc-taxi-regressor/1"), first)
    np.testing.assert_allclose(predictions("models:/nyc-taxi-regressor/latest"), second)
    sk = mlflow.sklearn.load_model("models:/nyc-taxi-regressor/Production")
    np.testing.assert_allclose(sk.predict(x_val), first)


def test_models_without_a_run_and_name_clashes(backend: str, taxi: Any) -> None:
    from sklearn.linear_model import Lasso

    x_train, y_train, x_val, _ = _dense(taxi)
    model = Lasso().fit(x_train, y_train)
    mlflow.set_experiment("no-run")
    info = mlflow.sklearn.log_model(model, name="standalone")  # MLflow 3: no run is created
    assert info.run_id is None
    assert mlflow.active_run() is None
    np.testing.assert_allclose(
        mlflow.sklearn.load_model(info.model_uri).predict(x_val), model.predict(x_val)
    )
    with pytest.raises(MlflowException, match="Both `artifact_path`"):
        mlflow.sklearn.log_model(model, artifact_path="a", name="b")


def test_bad_input_gets_clear_errors(backend: str, taxi: Any, tmp_path: Path) -> None:
    from sklearn.linear_model import Lasso

    x_train, y_train, _, _ = _dense(taxi)
    mlflow.set_experiment("errors")
    with mlflow.start_run() as run:
        mlflow.log_text("not a model", "notes/readme.txt")
        info = mlflow.sklearn.log_model(Lasso().fit(x_train, y_train), name="model")
    run_id = run.info.run_id

    def code_and_message(uri: str, loader: Any = mlflow.pyfunc.load_model) -> tuple[str, str]:
        with pytest.raises(MlflowException) as caught:
            loader(uri)
        return caught.value.error_code, caught.value.message

    code, message = code_and_message(f"runs:/{run_id}/nothing")
    assert code == RESOURCE_DOES_NOT_EXIST
    assert "logged no model named 'nothing'" in message
    code, message = code_and_message(f"runs:/{run_id}/notes")
    assert code == RESOURCE_DOES_NOT_EXIST
    assert message.endswith("there is no MLmodel file there")
    assert code_and_message("runs:/0123456789abcdef0123456789abcdef/model")[0] == (
        RESOURCE_DOES_NOT_EXIST
    )
    assert code_and_message("models:/m-0123456789abcdef0123456789abcdef")[0] == (
        RESOURCE_DOES_NOT_EXIST
    )
    assert code_and_message("models:/no-such-model/1")[0] == RESOURCE_DOES_NOT_EXIST
    code, message = code_and_message(str(tmp_path / "missing"))
    assert code == RESOURCE_DOES_NOT_EXIST
    assert message.endswith("the path does not exist")
    code, message = code_and_message(info.model_uri, mlflow.xgboost.load_model)
    assert (code, message) == (RESOURCE_DOES_NOT_EXIST, 'Model does not have the "xgboost" flavor')

    # an MLmodel whose pyfunc loader is a flavor trackline does not have
    folder = tmp_path / "lgbm"
    folder.mkdir()
    (folder / "MLmodel").write_text(
        "flavors:\n  python_function: {loader_module: mlflow.lightgbm, data: model.lgb}\n"
        "  lightgbm: {data: model.lgb}\n"
    )
    code, message = code_and_message(str(folder))
    assert code == INVALID_PARAMETER_VALUE
    assert message.startswith("Unknown flavor: the model is loaded by 'mlflow.lightgbm'")
