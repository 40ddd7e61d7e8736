"""Custom Python models: :class:`PythonModel`, its :class:`PythonModelContext`, and their
``save_model``/``log_model``.

The model object is pickled into ``python_model.pkl`` with cloudpickle (plain pickle when
cloudpickle is not installed; both are read by ``cloudpickle.load``, which MLflow uses). Its
artifacts (a dict of name to local path or artifact URI) are copied into ``artifacts/``;
``context.artifacts`` maps each name to its local path once loaded. The pyfunc flavor names
``mlflow.pyfunc.model`` as its loader, which is MLflow's module for these models and, through
trackline's alias, this one: so MLflow loads trackline's custom models and the reverse
(as long as the model's class can be imported where it is loaded).
"""

from __future__ import annotations

import importlib
import inspect
import os
import pickle
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from trackline.exceptions import InvalidParameterValue, MlflowException
from trackline.models.environment import (
    CONDA_ENV_FILE,
    PYTHON_ENV_FILE,
    pinned_requirement,
)
from trackline.models.flavor import (
    copy_code_paths,
    finish_model_folder,
    flavor_configuration,
    prepare_save_path,
    save_signature_and_example,
)
from trackline.models.model import Model, ModelInfo
from trackline.models.signature import ModelSignature
from trackline.pyfunc.loader import FLAVOR_NAME, add_to_model

__all__ = [
    "PythonModel",
    "PythonModelContext",
    "get_default_pip_requirements",
    "log_model",
    "save_model",
]

PYTHON_MODEL_FILE = "python_model.pkl"
ARTIFACTS_DIR = "artifacts"
LOADER_MODULE = "mlflow.pyfunc.model"


class _TypeHints:
    """The input/output type hints MLflow's loader asks a Python model for (none here)."""

    def __init__(self, input_: Any = None, output: Any = None) -> None:
        self.input = input_
        self.output = output


class PythonModelContext:
    """What a :class:`PythonModel` gets at load time: its artifacts (name to local path) and
    its model configuration."""

    def __init__(self, artifacts: dict[str, str], model_config: dict[str, Any] | None) -> None:
        self._artifacts = artifacts
        self._model_config = model_config

    @property
    def artifacts(self) -> dict[str, str]:
        """Each artifact's local path, by name."""
        return self._artifacts

    @property
    def model_config(self) -> dict[str, Any] | None:
        """The configuration the model was saved or loaded with."""
        return self._model_config


class PythonModel:
    """Subclass this and define ``predict(self, context, model_input, params=None)`` (or
    ``predict(self, model_input, params=None)``) to save any Python code as a model;
    ``load_context`` runs once when the model is loaded."""

    def load_context(self, context: PythonModelContext) -> None:
        """Read artifacts from ``context`` when the model is loaded (optional)."""

    def predict(self, context: PythonModelContext, model_input: Any, params: Any = None) -> Any:
        """Compute the model's output for ``model_input``."""
        raise NotImplementedError("PythonModel subclasses define predict()")

    def predict_stream(
        self, context: PythonModelContext, model_input: Any, params: Any = None
    ) -> Any:
        """Compute the model's output as an iterator of chunks (optional)."""
        raise NotImplementedError()

    @property
    def predict_type_hints(self) -> _TypeHints:
        """The type hints of ``predict`` as MLflow's loader reads them (trackline does not
        convert inputs by type hint, so there are none)."""
        return _TypeHints()


def _takes_context(function: Any) -> bool:
    parameters = [p for p in inspect.signature(function).parameters if p not in ("self", "params")]
    return "context" in parameters or len(parameters) == 2


class _PythonModelWrapper:
    """The pyfunc side of a :class:`PythonModel`."""

    def __init__(self, python_model: Any, context: PythonModelContext) -> None:
        self.python_model = python_model
        self.context = context

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Call the model's ``predict`` (with its context if it takes one)."""
        function = self.python_model.predict
        kwargs = {"params": params} if "params" in inspect.signature(function).parameters else {}
        if _takes_context(function):
            return function(self.context, data, **kwargs)
        return function(data, **kwargs)


class _FunctionModel(PythonModel):
    """A plain function saved as a model."""

    def __init__(self, function: Any) -> None:
        self.function = function

    def predict(self, model_input: Any, params: Any = None) -> Any:  # type: ignore[override]
        return self.function(model_input)


def get_default_pip_requirements() -> list[str]:
    """What a custom Python model needs: cloudpickle (when installed)."""
    from trackline.models.environment import installed_version

    return [pinned_requirement("cloudpickle")] if installed_version("cloudpickle") else []


def _pickler() -> tuple[Any, str | None]:
    try:
        cloudpickle = importlib.import_module("cloudpickle")
    except ImportError:
        return pickle, None
    return cloudpickle, str(cloudpickle.__version__)


def _copy_artifacts(artifacts: Mapping[str, str], model_dir: Path) -> dict[str, Any]:
    from trackline.models.location import current_client, local_model_path

    target = model_dir / ARTIFACTS_DIR
    target.mkdir()
    config: dict[str, Any] = {}
    for name, uri in artifacts.items():
        local = local_model_path(uri)
        with tempfile.TemporaryDirectory(prefix="trackline-artifact-") as tmp:
            if local is None:
                from trackline.models.location import resolve_model_location

                client = current_client()
                location = resolve_model_location(uri, client).rstrip("/")
                parent, _, base = location.rpartition("/")
                local = Path(client._artifact_repository(parent).download_artifacts(base, tmp))
            if not local.exists():
                raise InvalidParameterValue(f"Artifact {name!r}: {uri!r} does not exist")
            destination = target / local.name
            suffix = 1
            while destination.exists():
                destination = target / f"{local.stem}_{suffix}{local.suffix}"
                suffix += 1
            if local.is_dir():
                shutil.copytree(local, destination)
            else:
                shutil.copy2(local, destination)
        config[name] = {"path": f"{ARTIFACTS_DIR}/{destination.name}", "uri": uri}
    return config


def save_model(
    path: str | os.PathLike[str],
    loader_module: str | None = None,
    data_path: str | os.PathLike[str] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    conda_env: str | dict[str, Any] | None = None,
    mlflow_model: Model | None = None,
    python_model: Any = None,
    artifacts: Mapping[str, str] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    metadata: dict[str, Any] | None = None,
    model_config: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """Save a custom model into the folder ``path``: a :class:`PythonModel` (or a function)
    with its ``artifacts``, or a ``loader_module`` with its ``data_path``."""
    if (python_model is None) == (loader_module is None):
        raise InvalidParameterValue("Give either python_model or loader_module (and data_path)")
    folder = prepare_save_path(path)
    model = mlflow_model if mlflow_model is not None else Model()
    if metadata is not None:
        model.metadata = metadata
    code = copy_code_paths(code_paths, folder)
    extra: dict[str, Any] = {}
    data: str | None = None
    if python_model is not None:
        if not isinstance(python_model, PythonModel):
            if not callable(python_model):
                raise InvalidParameterValue(
                    "python_model must be a PythonModel instance or a function"
                )
            python_model = _FunctionModel(python_model)
        pickler, version = _pickler()
        try:
            with open(folder / PYTHON_MODEL_FILE, "wb") as out:
                pickler.dump(python_model, out, protocol=pickle.DEFAULT_PROTOCOL)
        except Exception as exc:
            raise InvalidParameterValue(f"Could not pickle the Python model: {exc}") from exc
        if version is not None:
            extra["cloudpickle_version"] = version
        extra["python_model"] = PYTHON_MODEL_FILE
        if artifacts:
            extra["artifacts"] = _copy_artifacts(artifacts, folder)
        extra["streamable"] = type(python_model).predict_stream is not PythonModel.predict_stream
        wrapper = _PythonModelWrapper(python_model, PythonModelContext({}, model_config))
        predict = wrapper.predict
    else:
        if data_path is not None:
            source = Path(data_path)
            if source.is_dir():
                shutil.copytree(source, folder / source.name)
            else:
                shutil.copy2(source, folder / source.name)
            data = source.name
        predict = None
    save_signature_and_example(model, folder, signature, input_example, predict)
    add_to_model(
        model,
        loader_module=loader_module or LOADER_MODULE,
        data=data,
        code=code,
        conda_env=CONDA_ENV_FILE,
        python_env=PYTHON_ENV_FILE,
        model_config=model_config,
        **extra,
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
    artifact_path: str | None = None,
    loader_module: str | None = None,
    data_path: str | os.PathLike[str] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    conda_env: str | dict[str, Any] | None = None,
    python_model: Any = None,
    artifacts: Mapping[str, str] | None = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    await_registration_for: int | None = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    metadata: dict[str, Any] | None = None,
    model_config: dict[str, Any] | None = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a custom model (see :func:`save_model`) to the active run as a logged model."""
    from trackline.models.model_log import log_model as log

    return log(
        save_model,
        flavor_name="pyfunc",
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
        loader_module=loader_module,
        data_path=data_path,
        code_paths=code_paths,
        conda_env=conda_env,
        python_model=python_model,
        artifacts=artifacts,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        model_config=model_config,
    )


def _load_pyfunc(model_path: str, model_config: dict[str, Any] | None = None) -> Any:
    """Load a saved :class:`PythonModel` (the loader of ``mlflow.pyfunc.model`` folders)."""
    from trackline.pyfunc.loader import model_folder

    folder = model_folder(model_path)
    conf = flavor_configuration(folder, FLAVOR_NAME)
    if os.environ.get("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true").lower() == "false":
        raise MlflowException(
            "Loading this model unpickles python_model.pkl, which can run arbitrary code; "
            "MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false forbids it."
        )
    subpath = conf.get("python_model")
    if not subpath:
        raise MlflowException("The model's configuration names no python_model file")
    if conf.get("python_model_compression"):
        raise MlflowException("Compressed python_model files are not supported by trackline")
    loader = _pickler()[0]  # cloudpickle reads plain pickles too
    with open(folder / str(subpath), "rb") as source:
        python_model = loader.load(source)
    artifacts = {
        name: str(folder / str(info["path"]))
        for name, info in (conf.get("artifacts") or {}).items()
    }
    context = PythonModelContext(artifacts, model_config)
    python_model.load_context(context)
    return _PythonModelWrapper(python_model, context)
