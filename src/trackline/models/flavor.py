"""What the flavors share when they save and load model folders: the target folder, code
paths, flavor configurations, the model size and the signature/example step."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from trackline.exceptions import (
    InvalidParameterValue,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from trackline.models.environment import write_environment
from trackline.models.input_example import InputExample, save_input_example
from trackline.models.model import MLMODEL_FILE_NAME, Model
from trackline.models.signature import ModelSignature, infer_param_schema, infer_schema

__all__ = [
    "CODE_DIR",
    "add_code_to_system_path",
    "copy_code_paths",
    "finish_model_folder",
    "flavor_configuration",
    "folder_size",
    "prepare_save_path",
    "save_signature_and_example",
]

CODE_DIR = "code"

_logger = logging.getLogger(__name__)


def prepare_save_path(path: str | os.PathLike[str]) -> Path:
    """The folder to save a model into: created, and refused if it exists with content."""
    folder = Path(path).expanduser().resolve()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ResourceAlreadyExists(f"Path '{folder}' already exists and is not empty")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def copy_code_paths(
    code_paths: Sequence[str | os.PathLike[str]] | None, model_dir: Path
) -> str | None:
    """Copy files and folders into ``<model>/code/`` (None when there are none)."""
    if code_paths is None:
        return None
    if isinstance(code_paths, (str, os.PathLike)) or not all(
        isinstance(p, (str, os.PathLike)) for p in code_paths
    ):
        raise TypeError(f"code_paths must be a list of paths, got {code_paths!r}")
    target = model_dir / CODE_DIR
    target.mkdir(exist_ok=True)
    for entry in code_paths:
        source = Path(entry)
        if source.is_dir():
            shutil.copytree(
                source,
                target / source.name,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
        elif source.is_file():
            shutil.copy2(source, target / source.name)
        else:
            raise InvalidParameterValue(f"Code path {str(source)!r} does not exist")
    return CODE_DIR


def add_code_to_system_path(model_dir: str | os.PathLike[str], conf: dict[str, Any]) -> None:
    """Put the model's ``code/`` folder (if its flavor names one) first on ``sys.path``."""
    code = conf.get("code")
    if code:
        folder = str(Path(model_dir) / str(code))
        if folder not in sys.path:
            sys.path.insert(0, folder)


def flavor_configuration(model_dir: str | os.PathLike[str], flavor_name: str) -> dict[str, Any]:
    """The configuration of one flavor in a model folder's MLmodel."""
    model = Model.load(Path(model_dir) / MLMODEL_FILE_NAME)
    conf = model.flavors.get(flavor_name)
    if not isinstance(conf, dict):
        raise ResourceDoesNotExist(f'Model does not have the "{flavor_name}" flavor')
    return conf


def folder_size(folder: Path) -> int:
    """The total size of the files under a folder, in bytes."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def finish_model_folder(
    folder: Path,
    model: Model,
    default_requirements: Sequence[str],
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    conda_env: Any = None,
) -> None:
    """The last step of every flavor's ``save_model``: record the folder's size in the
    MLmodel, write it, and write the environment files beside it."""
    model.model_size_bytes = folder_size(folder)
    model.save(folder / MLMODEL_FILE_NAME)
    write_environment(
        folder, default_requirements, pip_requirements, extra_pip_requirements, conda_env
    )


def save_signature_and_example(
    mlflow_model: Model,
    model_dir: Path,
    signature: ModelSignature | bool | None,
    input_example: Any,
    predict: Callable[[Any], Any] | None,
) -> None:
    """Save the input example and set the signature: the one given, or (None) inferred from
    the example, its output taken from ``predict(example)`` when that works; ``False``
    means none."""
    saved: InputExample | None = save_input_example(input_example, model_dir)
    if saved is not None:
        mlflow_model.saved_input_example_info = saved.info
    if signature is False:
        return
    if isinstance(signature, ModelSignature):
        mlflow_model.signature = signature
        return
    if saved is None:
        return
    try:
        inputs = infer_schema(saved.data)
        params = infer_param_schema(saved.params) if saved.params else None
    except InvalidParameterValue as exc:
        _logger.warning("No signature inferred from the input example: %s", exc.message)
        return
    outputs = None
    if predict is not None:
        try:
            outputs = infer_schema(predict(saved.data))
        except Exception:  # the example may not suit the model; keep the input schema
            outputs = None
    mlflow_model.signature = ModelSignature(inputs, outputs, params)
