"""The MLmodel file: the YAML description of a model folder, with MLflow's fields.

A model folder holds ``MLmodel``, the flavors' files (``model.pkl``, ``model.skops``,
``model.ubj`` ...), the environment files and optionally the input example and ``code/``.
``MLmodel`` is written as MLflow writes it (keys sorted; a signature as JSON strings)::

    artifact_path: mlflow-artifacts:/1/models/m-…/artifacts
    flavors:
      python_function: {loader_module: mlflow.sklearn, model_path: model.pkl, ...}
      sklearn: {pickled_model: model.pkl, serialization_format: cloudpickle, ...}
    mlflow_version: 3.17.2
    model_id: m-…
    model_size_bytes: 1234
    model_uuid: m-…
    run_id: 4f1…
    signature: {inputs: '[...]', outputs: '[...]', params: null}
    utc_time_created: '2025-01-31 12:00:00.000000'

``mlflow_version`` names the MLflow release whose format the file follows
(:data:`MLFLOW_FORMAT_VERSION`), not trackline's version: MLflow does not check the field,
but tools that compare it as a version expect an MLflow release, and trackline's own
version number would read as an ancient MLflow. trackline records itself in
``trackline_version``. Keys it does not know are kept and written back.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from trackline.exceptions import InvalidParameterValue, ResourceDoesNotExist
from trackline.models.schema import ParamSchema, Schema
from trackline.models.signature import ModelSignature
from trackline.version import __version__

__all__ = ["MLFLOW_FORMAT_VERSION", "MLMODEL_FILE_NAME", "Model", "ModelInfo"]

MLMODEL_FILE_NAME = "MLmodel"
#: The MLflow release whose MLmodel format trackline writes (see the module docstring).
MLFLOW_FORMAT_VERSION = "3.17.2"

_KNOWN = (
    "artifact_path",
    "run_id",
    "utc_time_created",
    "flavors",
    "signature",
    "saved_input_example_info",
    "model_uuid",
    "mlflow_version",
    "metadata",
    "model_size_bytes",
    "model_id",
)


def _now() -> str:
    return str(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))


class Model:
    """An MLmodel description: flavors, signature, example info and provenance."""

    def __init__(
        self,
        artifact_path: str | None = None,
        run_id: str | None = None,
        utc_time_created: str | None = None,
        flavors: dict[str, Any] | None = None,
        signature: ModelSignature | None = None,
        saved_input_example_info: dict[str, Any] | None = None,
        model_uuid: str | Callable[[], str] | None = lambda: uuid.uuid4().hex,
        mlflow_version: str | None = MLFLOW_FORMAT_VERSION,
        metadata: dict[str, Any] | None = None,
        model_size_bytes: int | None = None,
        model_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.artifact_path = artifact_path
        self.run_id = run_id
        self.utc_time_created = str(utc_time_created or _now())
        self.flavors: dict[str, Any] = flavors if flavors is not None else {}
        self.signature = signature
        self.saved_input_example_info = saved_input_example_info
        self.model_uuid = model_uuid() if callable(model_uuid) else model_uuid
        self.mlflow_version = mlflow_version
        self.metadata = metadata
        self.model_size_bytes = model_size_bytes
        self.model_id = model_id
        kwargs.setdefault("trackline_version", __version__)
        #: Keys this class does not model (``env_vars``, ``resources``, ...), written back.
        self.extra: dict[str, Any] = kwargs

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return self.to_yaml()

    def __getattr__(self, name: str) -> Any:
        extra = self.__dict__.get("extra")
        if extra is not None and name in extra:
            return extra[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def add_flavor(self, name: str, **params: Any) -> Model:
        """Add (or replace) a flavor's configuration; returns the model."""
        self.flavors[name] = params
        return self

    def get_input_schema(self) -> Schema | None:
        """The signature's input schema, if any."""
        return self.signature.inputs if self.signature is not None else None

    def get_output_schema(self) -> Schema | None:
        """The signature's output schema, if any."""
        return self.signature.outputs if self.signature is not None else None

    def get_params_schema(self) -> ParamSchema | None:
        """The signature's parameter schema, if any."""
        return self.signature.params if self.signature is not None else None

    def load_input_example(self, path: str | os.PathLike[str]) -> Any:
        """The input example saved in the model folder ``path`` (None if there is none)."""
        from trackline.models.input_example import load_input_example

        return load_input_example(path, self.saved_input_example_info, self.get_input_schema())

    # -- serialization ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The MLmodel content as a dict (None-valued optional fields left out)."""
        out: dict[str, Any] = {
            "flavors": self.flavors,
            "model_uuid": self.model_uuid,
            "utc_time_created": self.utc_time_created,
            "model_id": self.model_id,
        }
        for key in ("artifact_path", "run_id", "mlflow_version", "saved_input_example_info",
                    "metadata", "model_size_bytes"):  # fmt: skip
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.signature is not None:
            out["signature"] = self.signature.to_dict()
            out.setdefault("is_signature_from_type_hint", False)
            out.setdefault("type_hint_from_example", False)
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out

    def to_yaml(self, stream: Any = None) -> str:
        """The MLmodel file's text (written to ``stream`` too when given)."""
        text = yaml.safe_dump(self.to_dict(), default_flow_style=False)
        if stream is not None:
            stream.write(text)
        return text

    def to_json(self) -> str:
        """The MLmodel content as JSON."""
        return json.dumps(self.to_dict())

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the MLmodel file to ``path``."""
        Path(path).write_text(self.to_yaml(), encoding="utf-8")

    @classmethod
    def from_dict(cls, model_dict: Mapping[str, Any]) -> Model:
        """A model from the content of an MLmodel file."""
        if not isinstance(model_dict, Mapping):
            raise InvalidParameterValue("An MLmodel file must hold a YAML mapping")
        data = dict(model_dict)
        signature = data.pop("signature", None)
        data.pop("is_signature_from_type_hint", None)
        data.pop("type_hint_from_example", None)
        known = {k: data.pop(k) for k in _KNOWN if k in data}
        known.setdefault("model_uuid", None)
        known.setdefault("mlflow_version", None)
        if isinstance(signature, Mapping):
            known["signature"] = ModelSignature.from_dict(signature)
        if not isinstance(known.get("flavors", {}), dict):
            raise InvalidParameterValue("The MLmodel field 'flavors' must be a mapping")
        model = cls(**known)
        model.extra = data  # exactly what the file had (no trackline_version added)
        return model

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Model:
        """Read an MLmodel file, given as the file, its model folder or a model URI."""
        from trackline.models.location import download_model, local_model_path

        local = local_model_path(str(path))
        if local is None:
            local = download_model(str(path))
        if local.is_dir():
            local = local / MLMODEL_FILE_NAME
        if not local.is_file():
            raise ResourceDoesNotExist(f'Could not find an "{MLMODEL_FILE_NAME}" file at "{path}"')
        try:
            content = yaml.safe_load(local.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InvalidParameterValue(f"{local} is not valid YAML: {exc}") from None
        return cls.from_dict(content or {})

    def get_model_info(self, logged_model: Any = None) -> ModelInfo:
        """The :class:`ModelInfo` of this model (with its logged model, when given)."""
        return ModelInfo(self, logged_model)

    @classmethod
    def log(
        cls, artifact_path: str | None, flavor: Any, **kwargs: Any
    ) -> ModelInfo:  # pragma: no cover - thin wrapper, exercised through the flavors
        """Log a model with a flavor module (one with ``save_model``), as MLflow's
        ``Model.log``: see :func:`trackline.models.model_log.log_model`."""
        from trackline.models.model_log import log_model

        name = getattr(flavor, "__name__", "custom").rsplit(".", 1)[-1]
        return log_model(flavor.save_model, flavor_name=name, artifact_path=artifact_path,
                         **kwargs)  # fmt: skip


class ModelInfo:
    """What :func:`log_model` returns: the model's MLmodel fields, its URI and its logged
    model's id, params, metrics and tags (MLflow's attribute names)."""

    def __init__(
        self,
        model: Model,
        logged_model: Any = None,
        registered_model_version: int | None = None,
    ) -> None:
        self._model = model
        self._logged_model = logged_model
        self.registered_model_version = registered_model_version

    def __repr__(self) -> str:
        return f"<ModelInfo: model_uri={self.model_uri!r}>"

    @property
    def artifact_path(self) -> str | None:
        """Where the model's files are (the full artifact URI of a logged model)."""
        return self._model.artifact_path

    @property
    def flavors(self) -> dict[str, Any]:
        """The flavors and their configurations."""
        return self._model.flavors

    @property
    def model_uri(self) -> str:
        """``models:/<model_id>`` (or ``runs:/<run_id>/<artifact_path>`` without an id)."""
        if self._model.model_id:
            return f"models:/{self._model.model_id}"
        return f"runs:/{self._model.run_id}/{self._model.artifact_path}"

    @property
    def model_uuid(self) -> str | None:
        """The model's unique id (the logged model's id for logged models)."""
        return self._model.model_uuid

    @property
    def model_id(self) -> str | None:
        """The logged model's id."""
        return self._model.model_id

    @property
    def run_id(self) -> str | None:
        """The run the model was logged from (None without one)."""
        return self._model.run_id

    @property
    def saved_input_example_info(self) -> dict[str, Any] | None:
        """Where and how the input example is stored."""
        return self._model.saved_input_example_info

    @property
    def signature(self) -> ModelSignature | None:
        """The model's signature."""
        return self._model.signature

    @property
    def utc_time_created(self) -> str:
        """When the MLmodel was written (naive UTC)."""
        return self._model.utc_time_created

    @property
    def mlflow_version(self) -> str | None:
        """The MLflow format version of the MLmodel file."""
        return self._model.mlflow_version

    @property
    def metadata(self) -> dict[str, Any] | None:
        """The user metadata saved with the model."""
        return self._model.metadata

    @property
    def env_vars(self) -> list[str] | None:
        """Environment variables the model needs (as recorded by MLflow)."""
        value = self._model.extra.get("env_vars")
        return list(value) if value else None

    @property
    def prompts(self) -> list[str] | None:
        """Prompt URIs linked to the model (MLflow's GenAI field)."""
        value = self._model.extra.get("prompts")
        return list(value) if value else None

    @property
    def name(self) -> str | None:
        """The logged model's name."""
        return getattr(self._logged_model, "name", None)

    @property
    def metrics(self) -> list[Any] | None:
        """The logged model's metrics."""
        return getattr(self._logged_model, "metrics", None)

    @property
    def params(self) -> dict[str, str]:
        """The logged model's params."""
        return dict(getattr(self._logged_model, "params", None) or {})

    @property
    def tags(self) -> dict[str, str]:
        """The logged model's tags."""
        return dict(getattr(self._logged_model, "tags", None) or {})

    @property
    def creation_timestamp(self) -> int | None:
        """When the logged model was created (epoch ms)."""
        return getattr(self._logged_model, "creation_timestamp", None)
