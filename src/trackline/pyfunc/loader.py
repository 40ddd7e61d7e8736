"""``load_model`` and ``PyFuncModel``: any model as a Python function.

A model's ``python_function`` flavor names a ``loader_module`` whose ``_load_pyfunc(path)``
returns an object with ``predict``. Models written by trackline name MLflow's modules
(``mlflow.sklearn``, ``mlflow.xgboost``, ``mlflow.pyfunc.model``) so that MLflow loads them;
trackline reads those names as its own modules (``trackline.sklearn``, ...), so both
libraries load both libraries' models. Another ``mlflow.*`` loader is a flavor trackline
does not have, which is an error saying so.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from pathlib import Path
from types import ModuleType
from typing import Any

from trackline.exceptions import (
    InvalidParameterValue,
    MlflowException,
    ResourceDoesNotExist,
)
from trackline.models.enforcement import enforce_params, enforce_schema
from trackline.models.flavor import add_code_to_system_path
from trackline.models.location import download_model
from trackline.models.model import MLMODEL_FILE_NAME, Model

__all__ = ["FLAVOR_NAME", "PyFuncModel", "add_to_model", "load_model", "loader_module"]

FLAVOR_NAME = "python_function"
MAIN = "loader_module"
CODE = "code"
DATA = "data"
ENV = "env"
PY_VERSION = "python_version"
MODEL_CONFIG = "config"

_logger = logging.getLogger(__name__)

#: MLflow's loader modules and trackline's module that reads the same folders.
LOADER_ALIASES = {
    "mlflow.sklearn": "trackline.sklearn",
    "mlflow.xgboost": "trackline.xgboost",
    "mlflow.pyfunc.model": "trackline.pyfunc.model",
}


def loader_module(name: str) -> ModuleType:
    """The module that loads a model whose pyfunc ``loader_module`` is ``name``."""
    if not isinstance(name, str) or not name:
        raise InvalidParameterValue("The model's python_function flavor names no loader_module")
    target = LOADER_ALIASES.get(name, name)
    if target.startswith("mlflow."):
        known = ", ".join(sorted(LOADER_ALIASES))
        raise InvalidParameterValue(
            f"Unknown flavor: the model is loaded by {name!r}, which trackline does not "
            f"provide (it reads models of {known})"
        )
    try:
        module = importlib.import_module(target)
    except ModuleNotFoundError as exc:
        raise InvalidParameterValue(
            f"Unknown flavor: the model's loader module {name!r} cannot be imported ({exc})"
        ) from None
    if not hasattr(module, "_load_pyfunc"):
        raise InvalidParameterValue(f"Loader module {target!r} has no _load_pyfunc function")
    return module


def add_to_model(
    model: Model,
    loader_module: str,
    data: str | None = None,
    code: str | None = None,
    conda_env: str | None = None,
    python_env: str | None = None,
    model_config: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Model:
    """Add a ``python_function`` flavor to ``model`` (paths relative to the model folder)."""
    from trackline.models.environment import python_version

    params = dict(kwargs)
    params[MAIN] = loader_module
    params[PY_VERSION] = python_version()
    if code:
        params[CODE] = code
    if data:
        params[DATA] = data
    if conda_env or python_env:
        env: dict[str, str] = {}
        if conda_env:
            env["conda"] = conda_env
        if python_env:
            env["virtualenv"] = python_env
        params[ENV] = env
    if model_config:
        params[MODEL_CONFIG] = model_config
    return model.add_flavor(FLAVOR_NAME, **params)


class PyFuncModel:
    """A loaded model behind ``predict``: inputs are checked against the model's signature
    (and safely converted) before the model sees them."""

    def __init__(
        self,
        model_meta: Model,
        model_impl: Any,
        predict_fn: str = "predict",
        model_id: str | None = None,
    ) -> None:
        if not hasattr(model_impl, predict_fn):
            raise InvalidParameterValue(f"The loaded model has no {predict_fn!r} method")
        self._model_meta = model_meta
        self._model_impl = model_impl
        self._predict_fn = getattr(model_impl, predict_fn)
        self._model_id = model_id
        self.input_example: Any = None

    @property
    def metadata(self) -> Model:
        """The model's MLmodel description."""
        return self._model_meta

    @property
    def model_id(self) -> str | None:
        """The logged model's id, if the model was logged."""
        return self._model_id

    @property
    def loader_module(self) -> str | None:
        """The module named by the model's pyfunc flavor."""
        conf = self._model_meta.flavors.get(FLAVOR_NAME) or {}
        value = conf.get(MAIN)
        return str(value) if value is not None else None

    @property
    def model_config(self) -> dict[str, Any]:
        """The configuration given to the model when it was loaded."""
        conf = self._model_meta.flavors.get(FLAVOR_NAME) or {}
        return dict(conf.get(MODEL_CONFIG) or {})

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predict on a DataFrame, numpy array, dict, list (or what the model takes).

        With a signature, inputs that do not fit raise
        :class:`~trackline.exceptions.InvalidParameterValue` naming what is wrong (a missing
        column, a type that cannot be safely converted).
        """
        schema = self._model_meta.get_input_schema()
        if schema is not None:
            try:
                data = enforce_schema(data, schema)
            except MlflowException as exc:
                raise InvalidParameterValue(
                    f"Failed to enforce schema of data with schema '{schema!r}'. "
                    f"Error: {exc.message}"
                ) from None
        params = enforce_params(params, self._model_meta.get_params_schema())
        try:
            accepts = "params" in inspect.signature(self._predict_fn).parameters
        except (TypeError, ValueError):
            accepts = False
        if accepts:
            return self._predict_fn(data, params=params)
        return self._predict_fn(data)

    def unwrap_python_model(self) -> Any:
        """The :class:`~trackline.pyfunc.PythonModel` of a model saved from one."""
        python_model = getattr(self._model_impl, "python_model", None)
        if python_model is None:
            raise MlflowException("unwrap_python_model is only for models saved from a PythonModel")
        return python_model

    def get_raw_model(self) -> Any:
        """The framework's model object (an estimator, a Booster) behind the wrapper."""
        getter = getattr(self._model_impl, "get_raw_model", None)
        if getter is None:
            raise NotImplementedError("This model's wrapper does not expose a raw model")
        return getter()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PyFuncModel) and self._model_meta == other._model_meta

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        import yaml

        info: dict[str, Any] = {}
        if self._model_meta.run_id is not None:
            info["run_id"] = self._model_meta.run_id
        if self._model_meta.artifact_path is not None:
            info["artifact_path"] = self._model_meta.artifact_path
        info["flavor"] = self.loader_module
        return yaml.safe_dump({"mlflow.pyfunc.loaded_model": info}, default_flow_style=False)


def load_model(
    model_uri: str,
    suppress_warnings: bool = False,
    dst_path: str | None = None,
    model_config: dict[str, Any] | None = None,
) -> PyFuncModel:
    """Load a model as a :class:`PyFuncModel` from any model URI: a local path, ``file://``,
    ``runs:/<run_id>/<path>`` (MLflow 2 and 3 layouts), ``models:/<model_id>``,
    ``models:/<name>/<version|stage|latest>``, ``models:/<name>@<alias>`` or an artifact URI.
    """
    local = download_model(model_uri, dst_path)
    meta = Model.load(local / MLMODEL_FILE_NAME)
    conf = meta.flavors.get(FLAVOR_NAME)
    if not isinstance(conf, dict):
        flavors = sorted(meta.flavors)
        raise ResourceDoesNotExist(
            f'Model does not have the "{FLAVOR_NAME}" flavor (it has {flavors}), so it cannot '
            "be loaded as a Python function"
        )
    module = loader_module(conf.get(MAIN, ""))
    add_code_to_system_path(local, conf)
    data_path = local / str(conf[DATA]) if DATA in conf else local
    config = {**(conf.get(MODEL_CONFIG) or {}), **(model_config or {})}
    if config:
        impl = module._load_pyfunc(str(data_path), config)
    else:
        impl = module._load_pyfunc(str(data_path))
    model = PyFuncModel(meta, impl, str(conf.get("predict_fn", "predict")), meta.model_id)
    try:
        model.input_example = meta.load_input_example(local)
    except Exception as exc:  # an unreadable example does not stop the model
        if not suppress_warnings:
            _logger.debug("Could not read the input example of %s: %s", model_uri, exc)
    return model


def model_folder(path: str) -> Path:
    """The model folder of the path a loader receives (the folder, or a file inside it)."""
    given = Path(path)
    return given.parent if given.is_file() else given
