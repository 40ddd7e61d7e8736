"""The XGBoost flavor: save, log and load Boosters and scikit-learn-API models.

The model is written in XGBoost's own format, ``model.ubj`` by default (``model_format``
``json`` and ``xgb`` too), with the model's class in the ``xgboost`` flavor's
``model_class`` (``xgboost.core.Booster``, ``xgboost.sklearn.XGBRegressor``...). The pyfunc
flavor names ``mlflow.xgboost`` as its loader, so MLflow loads trackline's models and the
reverse. Loading never unpickles anything.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Sequence
from typing import Any

from trackline.exceptions import InvalidParameterValue
from trackline.models.environment import (
    CONDA_ENV_FILE,
    PYTHON_ENV_FILE,
    pinned_requirement,
)
from trackline.models.flavor import (
    add_code_to_system_path,
    copy_code_paths,
    finish_model_folder,
    flavor_configuration,
    prepare_save_path,
    save_signature_and_example,
)
from trackline.models.location import download_model
from trackline.models.model import Model, ModelInfo
from trackline.models.signature import ModelSignature
from trackline.pyfunc.loader import add_to_model, model_folder

__all__ = [
    "FLAVOR_NAME",
    "autolog",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]

FLAVOR_NAME = "xgboost"
_FORMATS = ("ubj", "json", "xgb", "deprecated")


def get_default_pip_requirements() -> list[str]:
    """The packages an XGBoost model needs, pinned to the installed versions."""
    return sorted(pinned_requirement(p) for p in ("numpy", "pandas", "scipy", "xgboost"))


def _class_name(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__name__}"


class _XGBModelWrapper:
    """The pyfunc side of an XGBoost model: Boosters get their input as a DMatrix."""

    def __init__(self, xgb_model: Any) -> None:
        self.xgb_model = xgb_model

    def get_raw_model(self) -> Any:
        """The Booster or estimator."""
        return self.xgb_model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """The model's predictions for a DataFrame, numpy array or sparse matrix (extra
        ``params`` the model's ``predict`` does not take are dropped)."""
        import xgboost as xgb

        model = self.xgb_model
        extra = dict(params or {})
        if isinstance(model, xgb.Booster):
            accepted = inspect.signature(model.predict).parameters
            kwargs = {k: v for k, v in extra.items() if k in accepted}
            matrix = data if isinstance(data, xgb.DMatrix) else xgb.DMatrix(data)
            return model.predict(matrix, validate_features=True, **kwargs)
        accepted = inspect.signature(model.predict).parameters
        kwargs = {k: v for k, v in extra.items() if k in accepted}
        if isinstance(model, xgb.XGBModel):
            kwargs.setdefault("validate_features", True)
        return model.predict(data, **kwargs)


def save_model(
    xgb_model: Any,
    path: str | os.PathLike[str],
    conda_env: str | dict[str, Any] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    mlflow_model: Model | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    model_format: str = "ubj",
    metadata: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """Save an XGBoost model (a Booster or an ``XGBModel``) into the folder ``path`` in
    XGBoost's ``model_format`` (``ubj``, ``json`` or ``xgb``)."""
    import xgboost as xgb

    if model_format not in _FORMATS:
        raise InvalidParameterValue(
            f"Unknown model_format {model_format!r}; use one of 'ubj', 'json', 'xgb'"
        )
    if not hasattr(xgb_model, "save_model"):
        raise InvalidParameterValue(
            f"Expected an xgboost Booster or XGBModel, got a {type(xgb_model).__name__}"
        )
    folder = prepare_save_path(path)
    model = mlflow_model if mlflow_model is not None else Model()
    if metadata is not None:
        model.metadata = metadata
    code = copy_code_paths(code_paths, folder)
    save_signature_and_example(
        model, folder, signature, input_example, _XGBModelWrapper(xgb_model).predict
    )
    data_file = f"model.{model_format}"
    xgb_model.save_model(str(folder / data_file), **kwargs)
    add_to_model(
        model,
        loader_module="mlflow.xgboost",
        data=data_file,
        conda_env=CONDA_ENV_FILE,
        python_env=PYTHON_ENV_FILE,
        code=code,
    )
    model.add_flavor(
        FLAVOR_NAME,
        xgb_version=xgb.__version__,
        data=data_file,
        model_class=_class_name(xgb_model),
        model_format=model_format,
        code=code,
    )
    finish_model_folder(
        folder,
        model,
        get_default_pip_requirements(),
        pip_requirements,
        extra_pip_requirements,
        conda_env,
    )


def log_model(
    xgb_model: Any,
    artifact_path: str | None = None,
    conda_env: str | dict[str, Any] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    await_registration_for: int | None = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    model_format: str = "ubj",
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log an XGBoost model to the active run as a logged model (``name=``, or MLflow 2's
    ``artifact_path=``), optionally registering it as ``registered_model_name``."""
    from trackline.models.model_log import log_model as log

    return log(
        save_model,
        flavor_name=FLAVOR_NAME,
        artifact_path=artifact_path,
        name=name,
        registered_model_name=registered_model_name,
        await_registration_for=await_registration_for,
        metadata=metadata,
        params=params,
        tags=tags,
        model_type=model_type,
        step=step,
        model_id=model_id,
        xgb_model=xgb_model,
        conda_env=conda_env,
        code_paths=code_paths,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        model_format=model_format,
        **kwargs,
    )


def _model_class(qualified: str) -> Any:
    module_name, _, class_name = qualified.rpartition(".")
    if not module_name.startswith("xgboost"):
        raise InvalidParameterValue(f"The model's class {qualified!r} is not an xgboost class")
    try:
        return getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        raise InvalidParameterValue(f"Unknown xgboost model class {qualified!r}") from None


def _load_from_folder(folder: Any) -> Any:
    conf = flavor_configuration(folder, FLAVOR_NAME)
    model = _model_class(str(conf.get("model_class", "xgboost.core.Booster")))()
    model.load_model(str(folder / str(conf["data"])))
    return model


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """Load an XGBoost model (a Booster or the saved estimator class) from any model URI."""
    folder = download_model(model_uri, dst_path)
    add_code_to_system_path(folder, flavor_configuration(folder, FLAVOR_NAME))
    return _load_from_folder(folder)


def _load_pyfunc(path: str) -> _XGBModelWrapper:
    """Load the pyfunc side of an XGBoost model folder (or of its model file)."""
    return _XGBModelWrapper(_load_from_folder(model_folder(path)))


def autolog(*args: Any, **kwargs: Any) -> Any:
    """Log ``xgb.train`` automatically (see :mod:`trackline.autolog`)."""
    from trackline.autolog import xgboost as integration

    return integration.autolog(*args, **kwargs)
