"""Models: the MLmodel format, signatures, input examples and environments.

A model is a folder with an ``MLmodel`` file (:class:`Model`), the files of its flavors, its
environment (``requirements.txt``, ``python_env.yaml``, ``conda.yaml``) and optionally an
input example; it is laid out exactly as MLflow lays it out, so either library loads what
the other saved. Flavors (:mod:`trackline.sklearn`, :mod:`trackline.xgboost`,
:mod:`trackline.pyfunc`) save, log and load models; this package holds what they share.
"""

from __future__ import annotations

from typing import Any

from trackline.models.enforcement import enforce_schema
from trackline.models.input_example import InputExample
from trackline.models.model import MLMODEL_FILE_NAME, Model, ModelInfo
from trackline.models.schema import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    Map,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
)
from trackline.models.signature import ModelSignature, infer_signature

__all__ = [
    "MLMODEL_FILE_NAME",
    "AnyType",
    "Array",
    "ColSpec",
    "DataType",
    "Map",
    "Model",
    "ModelInfo",
    "ModelSignature",
    "Object",
    "ParamSchema",
    "ParamSpec",
    "Property",
    "Schema",
    "TensorSpec",
    "convert_input_example_to_serving_input",
    "get_model_info",
    "infer_signature",
    "validate_schema",
]


def get_model_info(model_uri: str) -> ModelInfo:
    """The :class:`ModelInfo` of the model at ``model_uri`` (any URI ``load_model`` takes)."""
    model = Model.load(model_uri)
    logged = None
    if model.model_id:
        from trackline.exceptions import MlflowException
        from trackline.models.location import current_client

        try:
            logged = current_client().get_logged_model(model.model_id)
        except MlflowException:
            logged = None  # a copy of a model logged elsewhere
    return model.get_model_info(logged)


def validate_schema(data: Any, expected_schema: Schema) -> None:
    """Raise :class:`~trackline.exceptions.MlflowException` unless ``data`` fits the schema
    (the check ``PyFuncModel.predict`` makes)."""
    enforce_schema(data, expected_schema)


def convert_input_example_to_serving_input(input_example: Any) -> str | None:
    """The JSON a scoring server takes for this input example (None for None)."""
    if input_example is None:
        return None
    return InputExample(input_example).serving_json
