"""The scikit-learn flavor: save, log and load estimators in MLflow's format.

The estimator is serialized as ``model.skops`` (skops, MLflow 3's default and the safe
format; used when skops is installed) or ``model.pkl`` (cloudpickle when installed, else
pickle), named by the ``sklearn`` flavor's ``serialization_format``. The pyfunc flavor names
``mlflow.sklearn`` as its loader, so ``mlflow.pyfunc.load_model`` reads trackline's models;
trackline reads MLflow's in the three formats (skops needs skops installed).

Loading a pickle runs code from the file: load only models you trust. As MLflow does,
``MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false`` forbids it.
"""

from __future__ import annotations

import importlib
import os
import pickle
from collections.abc import Sequence
from typing import Any

from trackline.exceptions import InvalidParameterValue, MissingDependency, MlflowException
from trackline.models.environment import (
    CONDA_ENV_FILE,
    PYTHON_ENV_FILE,
    installed_version,
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
    "SERIALIZATION_FORMAT_CLOUDPICKLE",
    "SERIALIZATION_FORMAT_PICKLE",
    "SERIALIZATION_FORMAT_SKOPS",
    "SUPPORTED_SERIALIZATION_FORMATS",
    "autolog",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]

FLAVOR_NAME = "sklearn"
SERIALIZATION_FORMAT_SKOPS = "skops"
SERIALIZATION_FORMAT_PICKLE = "pickle"
SERIALIZATION_FORMAT_CLOUDPICKLE = "cloudpickle"
SUPPORTED_SERIALIZATION_FORMATS = [
    SERIALIZATION_FORMAT_SKOPS,
    SERIALIZATION_FORMAT_PICKLE,
    SERIALIZATION_FORMAT_CLOUDPICKLE,
]
_FILES = {
    SERIALIZATION_FORMAT_SKOPS: "model.skops",
    SERIALIZATION_FORMAT_PICKLE: "model.pkl",
    SERIALIZATION_FORMAT_CLOUDPICKLE: "model.pkl",
}


def default_serialization_format() -> str:
    """skops when installed (MLflow 3's default), else cloudpickle, else pickle."""
    for name in (SERIALIZATION_FORMAT_SKOPS, SERIALIZATION_FORMAT_CLOUDPICKLE):
        if installed_version(name):
            return name
    return SERIALIZATION_FORMAT_PICKLE


def get_default_pip_requirements(serialization_format: str | None = None) -> list[str]:
    """The packages a scikit-learn model needs, pinned to the installed versions."""
    fmt = serialization_format or default_serialization_format()
    packages = ["numpy", "pandas", "scikit-learn", "scipy"]
    if fmt != SERIALIZATION_FORMAT_PICKLE:
        packages.append(fmt)
    return sorted(pinned_requirement(p, "sklearn" if p == "scikit-learn" else None)
                  for p in packages)  # fmt: skip


def _check_format(serialization_format: str) -> None:
    if serialization_format not in SUPPORTED_SERIALIZATION_FORMATS:
        raise InvalidParameterValue(
            f"Unrecognized serialization format: {serialization_format}. Please specify one of "
            f"the following supported formats: {SUPPORTED_SERIALIZATION_FORMATS}."
        )


def _optional(module: str, feature: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependency(module.split(".")[0], "sklearn", feature) from None


def _dump(sk_model: Any, path: str, fmt: str, trusted: list[str] | None) -> None:
    if fmt == SERIALIZATION_FORMAT_SKOPS:
        skops_io = _optional("skops.io", "the skops format")
        skops_io.dump(sk_model, path)
        untrusted = [t for t in skops_io.get_untrusted_types(file=path) if t not in (trusted or [])]
        if untrusted:
            os.remove(path)
            raise InvalidParameterValue(
                f"The model holds types skops does not trust by default: {untrusted}. If you "
                "trust them, pass skops_trusted_types=[...]; or save with "
                "serialization_format='cloudpickle'."
            )
        return
    pickler: Any = pickle
    if fmt == SERIALIZATION_FORMAT_CLOUDPICKLE:
        pickler = _optional("cloudpickle", "the cloudpickle format")
    with open(path, "wb") as out:
        pickler.dump(sk_model, out, protocol=pickle.DEFAULT_PROTOCOL)


def _load(path: str, fmt: str, trusted: list[str] | None) -> Any:
    _check_format(fmt)
    if os.environ.get("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true").lower() == "false":
        raise MlflowException(
            "Loading this model can run code from its file, and "
            "MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false forbids it."
        )
    if fmt == SERIALIZATION_FORMAT_SKOPS:
        return _optional("skops.io", "reading skops models").load(path, trusted=trusted)
    with open(path, "rb") as source:
        if fmt == SERIALIZATION_FORMAT_CLOUDPICKLE:
            return _optional("cloudpickle", "reading this model").load(source)
        return pickle.load(source)


def save_model(
    sk_model: Any,
    path: str | os.PathLike[str],
    conda_env: str | dict[str, Any] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    mlflow_model: Model | None = None,
    serialization_format: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    pyfunc_predict_fn: str = "predict",
    metadata: dict[str, Any] | None = None,
    skops_trusted_types: list[str] | None = None,
    **kwargs: Any,
) -> None:
    """Save a scikit-learn model into the folder ``path`` (which must be new or empty).

    Without ``signature`` one is inferred from ``input_example`` (``signature=False``: none).
    """
    fmt = serialization_format or default_serialization_format()
    _check_format(fmt)
    folder = prepare_save_path(path)
    model = mlflow_model if mlflow_model is not None else Model()
    if metadata is not None:
        model.metadata = metadata
    code = copy_code_paths(code_paths, folder)
    predict = getattr(sk_model, pyfunc_predict_fn, None)
    save_signature_and_example(model, folder, signature, input_example, predict)
    data_file = _FILES[fmt]
    _dump(sk_model, str(folder / data_file), fmt, skops_trusted_types)
    if predict is not None:
        add_to_model(
            model,
            loader_module="mlflow.sklearn",
            model_path=data_file,
            conda_env=CONDA_ENV_FILE,
            python_env=PYTHON_ENV_FILE,
            code=code,
            predict_fn=pyfunc_predict_fn,
        )
    import sklearn

    model.add_flavor(
        FLAVOR_NAME,
        pickled_model=data_file,
        sklearn_version=sklearn.__version__,
        serialization_format=fmt,
        code=code,
        skops_trusted_types=skops_trusted_types,
    )
    finish_model_folder(
        folder,
        model,
        get_default_pip_requirements(fmt),
        pip_requirements,
        extra_pip_requirements,
        conda_env,
    )


def log_model(
    sk_model: Any,
    artifact_path: str | None = None,
    conda_env: str | dict[str, Any] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    serialization_format: str | None = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    await_registration_for: int | None = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    pyfunc_predict_fn: str = "predict",
    metadata: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    name: str | None = None,
    skops_trusted_types: list[str] | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a scikit-learn model to the active run as a logged model (``name=``, or MLflow 2's
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
        sk_model=sk_model,
        conda_env=conda_env,
        code_paths=code_paths,
        serialization_format=serialization_format,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        pyfunc_predict_fn=pyfunc_predict_fn,
        skops_trusted_types=skops_trusted_types,
    )


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """Load a scikit-learn model (the estimator itself) from any model URI."""
    folder = download_model(model_uri, dst_path)
    conf = flavor_configuration(folder, FLAVOR_NAME)
    add_code_to_system_path(folder, conf)
    return _load(
        str(folder / str(conf["pickled_model"])),
        str(conf.get("serialization_format", SERIALIZATION_FORMAT_PICKLE)),
        conf.get("skops_trusted_types"),
    )


class _SklearnModelWrapper:
    """The pyfunc side of a scikit-learn model."""

    def __init__(self, sklearn_model: Any) -> None:
        self.sklearn_model = sklearn_model
        for method in ("predict_proba", "predict_log_proba", "predict_joint_log_proba", "score"):
            found = getattr(sklearn_model, method, None)
            if found is not None:
                setattr(self, method, found)

    def get_raw_model(self) -> Any:
        """The estimator."""
        return self.sklearn_model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """The estimator's predictions."""
        return self.sklearn_model.predict(data)


def _load_pyfunc(path: str) -> _SklearnModelWrapper:
    """Load the pyfunc side of a scikit-learn model folder (or of its model file)."""
    folder = model_folder(path)
    try:
        conf = flavor_configuration(folder, FLAVOR_NAME)
    except MlflowException:
        conf = {}
    fmt = str(conf.get("serialization_format", SERIALIZATION_FORMAT_PICKLE))
    target = path
    if os.path.isdir(path):
        from trackline.pyfunc.loader import FLAVOR_NAME as PYFUNC

        target = str(folder / str(flavor_configuration(folder, PYFUNC)["model_path"]))
    return _SklearnModelWrapper(_load(target, fmt, conf.get("skops_trusted_types")))


def autolog(*args: Any, **kwargs: Any) -> Any:
    """Log scikit-learn training automatically (see :mod:`trackline.autolog`)."""
    from trackline.autolog import sklearn as integration

    return integration.autolog(*args, **kwargs)
