"""Input examples saved beside a model: ``input_example.json`` and
``serving_input_example.json``, in MLflow's formats.

=================================  ======================  ================================
example                            ``input_example.json``  serving input
=================================  ======================  ================================
pandas DataFrame (type dataframe)  ``{"columns", "data"}``  ``{"dataframe_split": {...}}``
numpy array / dict of arrays       nested lists / dict      ``{"inputs": ...}``
  (type ndarray)
scipy sparse (sparse_matrix_csr/   ``{"data", "indices",    ``{"inputs": dense lists}``
  csc)                             "indptr", "shape"}``
list, dict, scalar (json_object)   as is                    ``{"inputs": ...}``
=================================  ======================  ================================

NaN becomes ``null``, numpy scalars plain numbers, bytes base64 text, dates ISO strings. A
tuple ``(data, params)`` stores ``{"inputs": data, "params": params}`` and marks the MLmodel's
``saved_input_example_info`` with ``params: "true"``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from trackline.exceptions import InvalidParameterValue, MlflowException
from trackline.models.schema import DataType, Schema, TensorSpec
from trackline.models.signature import _is_sparse

__all__ = [
    "EXAMPLE_FILENAME",
    "SERVING_INPUT_FILENAME",
    "InputExample",
    "load_input_example",
    "save_input_example",
]

EXAMPLE_FILENAME = "input_example.json"
SERVING_INPUT_FILENAME = "serving_input_example.json"


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        import pandas as pd

        if isinstance(o, np.ndarray):
            return [_plain(x) for x in o.tolist()] if o.dtype == object else o.tolist()
        if isinstance(o, np.datetime64):
            return str(np.datetime_as_string(o))
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, (bytes, bytearray)):
            return base64.encodebytes(bytes(o)).decode("ascii")
        if isinstance(o, (pd.Timestamp, dt.date, dt.datetime, dt.time)):
            return o.isoformat()
        return super().default(o)


def _plain(value: Any) -> Any:
    return _Encoder().default(value) if isinstance(value, (np.generic, bytes)) else value


def _without_nans(array: np.ndarray[Any, Any]) -> Any:
    if np.issubdtype(array.dtype, np.number):
        return np.where(np.isnan(array), np.array(None), array).tolist()
    return array.tolist()


def _frame_split(frame: Any) -> dict[str, Any]:
    cleaned = frame.astype(object).where(frame.notnull(), None)
    out: dict[str, Any] = {"columns": list(frame.columns), "data": cleaned.values.tolist()}
    if list(frame.columns) == list(range(len(frame.columns))):
        del out["columns"]
    return out


class InputExample:
    """An example in its stored forms: ``info`` (for the MLmodel), the example's JSON and the
    serving input's JSON; ``data`` and ``params`` are what the model can be called with."""

    def __init__(self, example: Any) -> None:
        import pandas as pd

        self.data, self.params = example, None
        if isinstance(example, tuple) and len(example) == 2 and isinstance(example[1], dict):
            self.data, self.params = example
        self.info: dict[str, Any] = {"artifact_path": EXAMPLE_FILENAME}
        data = self.data
        serving: Any
        if isinstance(data, pd.DataFrame):
            stored: Any = _frame_split(data)
            serving = {"dataframe_split": stored}
            orient = "split" if "columns" in stored else "values"
            self.info.update({"type": "dataframe", "pandas_orient": orient})
        elif isinstance(data, np.ndarray):
            stored = _without_nans(data)
            serving = {"inputs": stored}
            self.info["type"] = "ndarray"
        elif isinstance(data, dict) and any(isinstance(v, np.ndarray) for v in data.values()):
            if not all(isinstance(v, np.ndarray) for v in data.values()):
                raise InvalidParameterValue(
                    "An input example dict cannot mix numpy arrays and other values"
                )
            stored = {k: _without_nans(v) for k, v in data.items()}
            serving = {"inputs": stored}
            self.info["type"] = "ndarray"
        elif _is_sparse(data):
            matrix = data
            kind = "csc" if type(matrix).__name__.startswith("csc") else "csr"
            self.info["type"] = f"sparse_matrix_{kind}"
            stored = {
                "data": _without_nans(matrix.data),
                "indices": matrix.indices.tolist(),
                "indptr": matrix.indptr.tolist(),
                "shape": list(matrix.shape),
            }
            serving = {"inputs": matrix.toarray()}
        elif isinstance(data, (dict, list)) or np.isscalar(data) or isinstance(data, dt.datetime):
            if isinstance(data, list) and any(isinstance(v, np.ndarray) for v in data):
                raise InvalidParameterValue("Numpy arrays inside a list are not supported")
            stored = data
            serving = {"inputs": data}
            self.info["type"] = "json_object"
        else:
            raise InvalidParameterValue(
                "An input example must be a pandas DataFrame, a numpy array, a dict of numpy "
                "arrays, a scipy sparse matrix, a dict, a list or a scalar; got a "
                f"{type(data).__name__}"
            )
        if self.params is not None:
            self.info["params"] = "true"
            stored = {"inputs": stored, "params": self.params}
            serving = {**serving, "params": self.params}
        self.info["serving_input_path"] = SERVING_INPUT_FILENAME
        self.example_json = json.dumps(stored, cls=_Encoder)
        self.serving_json = json.dumps(serving, cls=_Encoder, indent=2)

    def save(self, model_dir: str | os.PathLike[str]) -> None:
        """Write both files into the model folder."""
        folder = Path(model_dir)
        (folder / EXAMPLE_FILENAME).write_text(self.example_json, encoding="utf-8")
        (folder / SERVING_INPUT_FILENAME).write_text(self.serving_json, encoding="utf-8")


def save_input_example(example: Any, model_dir: str | os.PathLike[str]) -> InputExample | None:
    """Save ``example`` (None: nothing) into the model folder; the saved example."""
    if example is None:
        return None
    saved = InputExample(example)
    saved.save(model_dir)
    return saved


def load_input_example(
    model_dir: str | os.PathLike[str], info: dict[str, Any] | None, schema: Schema | None = None
) -> Any:
    """The input example stored in a model folder (None if it has none), read back into the
    kind it was given as and cast to the input ``schema``'s types."""
    if not info:
        return None
    path = Path(model_dir) / str(info.get("artifact_path", EXAMPLE_FILENAME))
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MlflowException(f"The model's input example {path} is missing") from None
    if info.get("params"):
        content = content["inputs"]
    kind = info.get("type")
    if kind == "json_object":
        return content
    if kind == "ndarray":
        return _read_tensors(content, schema)
    if kind in ("sparse_matrix_csr", "sparse_matrix_csc"):
        import importlib

        sparse = importlib.import_module("scipy.sparse")
        matrix = sparse.csc_matrix if kind.endswith("csc") else sparse.csr_matrix
        shape = tuple(content["shape"])
        return matrix((content["data"], content["indices"], content["indptr"]), shape=shape)
    if kind == "dataframe":
        return _read_frame(content, schema)
    raise MlflowException(f"Unknown input example type {kind!r}")


def _read_tensors(content: Any, schema: Schema | None) -> Any:
    specs = [s for s in (schema.inputs if schema else []) if isinstance(s, TensorSpec)]
    if isinstance(content, dict):
        types = {str(s.name): s.type for s in specs}
        return {k: np.array(v, dtype=types.get(k)) for k, v in content.items()}
    return np.array(content, dtype=specs[0].type if len(specs) == 1 else None)


def _read_frame(content: Any, schema: Schema | None) -> Any:
    import pandas as pd

    if isinstance(content, dict):
        frame = pd.DataFrame(data=content["data"], columns=content.get("columns"))
    else:
        frame = pd.DataFrame(data=content)
    if schema is None or schema.is_tensor_spec():
        return frame
    names = schema.input_names()
    for name, kind in zip(names, schema.input_types(), strict=True):
        column = name if schema.has_input_names() else frame.columns[int(name)]
        if column not in frame.columns or not isinstance(kind, DataType):
            continue
        if kind is DataType.binary:
            frame[column] = frame[column].map(
                lambda v: base64.decodebytes(v.encode("ascii")) if isinstance(v, str) else v
            )
        elif kind is DataType.datetime:
            frame[column] = pd.to_datetime(frame[column])
        elif kind is not DataType.string and not frame[column].isnull().any():
            frame[column] = frame[column].astype(kind.to_numpy())
    return frame
