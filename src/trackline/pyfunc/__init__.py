"""The ``python_function`` flavor: every model as a Python function with ``predict``.

``trackline.pyfunc.load_model(uri)`` loads any model that has a ``python_function`` flavor
(scikit-learn, XGBoost and custom models, saved by trackline or by MLflow) and returns a
:class:`PyFuncModel`, whose ``predict`` checks inputs against the model's signature.
:class:`PythonModel` with :func:`save_model`/:func:`log_model` saves custom Python code as
a model. :func:`spark_udf` turns a model into a Spark UDF that predicts on Spark DataFrames
(pyspark is imported only then: ``pip install 'trackline[spark]'``).
"""

from __future__ import annotations

from pathlib import Path

from trackline.models.environment import CONDA_ENV_FILE, REQUIREMENTS_FILE
from trackline.pyfunc.loader import FLAVOR_NAME, PyFuncModel, add_to_model, load_model
from trackline.pyfunc.model import (
    PythonModel,
    PythonModelContext,
    get_default_pip_requirements,
    log_model,
    save_model,
)
from trackline.pyfunc.spark import SparkModelUDF, spark_udf

__all__ = [
    "FLAVOR_NAME",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "SparkModelUDF",
    "add_to_model",
    "get_default_pip_requirements",
    "get_model_dependencies",
    "load_model",
    "load_pyfunc",
    "log_model",
    "save_model",
    "spark_udf",
]


def load_pyfunc(model_uri: str, suppress_warnings: bool = False) -> PyFuncModel:
    """MLflow 1.x's name for :func:`load_model`."""
    return load_model(model_uri, suppress_warnings)


def get_model_dependencies(model_uri: str, format: str = "pip") -> str:
    """The local path of the model's ``requirements.txt`` (``format="pip"``) or
    ``conda.yaml`` (``format="conda"``)."""
    from trackline.exceptions import InvalidParameterValue, ResourceDoesNotExist
    from trackline.models.location import download_model

    if format not in ("pip", "conda"):
        raise InvalidParameterValue(f"format must be 'pip' or 'conda', got {format!r}")
    folder = download_model(model_uri)
    path = Path(folder) / (REQUIREMENTS_FILE if format == "pip" else CONDA_ENV_FILE)
    if not path.is_file():
        raise ResourceDoesNotExist(f"The model at {model_uri!r} has no {path.name}")
    return str(path)
