"""Training data as run inputs: the dataset entity autologging records for a ``fit``.

A dataset is described as MLflow describes it (``mlflow.data.from_numpy`` /
``from_pandas``): a name (``dataset`` by default), an 8-hex-digit digest of its first
10,000 values and its shape, a ``code`` source naming the program that trained, its schema
and a profile (shapes and sizes). Nothing is copied but a prefix of the values for the
digest; a sparse matrix is described only when it is small enough to densify cheaply, and
anything else (lists, files, data frames of other libraries) is skipped.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from trackline.entities import Dataset, DatasetInput, InputTag
from trackline.tracking import context

__all__ = ["DATASET_CONTEXT", "dataset_input", "describe"]

#: The input tag saying what a run did with a dataset (``train``, ``eval``).
DATASET_CONTEXT = "mlflow.data.context"
_DIGEST_VALUES = 10_000
_MAX_DENSE_VALUES = 5_000_000


def _source() -> str:
    return json.dumps({"tags": context.resolve_tags()})


def _digest(parts: list[bytes]) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    for part in parts:
        md5.update(part)
    return md5.hexdigest()[:8]


def _array_parts(array: Any) -> list[bytes]:
    import numpy as np
    import pandas as pd

    head = np.ravel(array)[:_DIGEST_VALUES]
    try:
        parts = [pd.util.hash_array(head).tobytes()]
    except TypeError:
        parts = [np.int64(head.size).tobytes()]
    return parts + [np.int64(n).tobytes() for n in np.shape(array)]


def _numpy(features: Any, targets: Any, name: str) -> Dataset:
    import numpy as np

    from trackline.models.signature import infer_schema

    parts = _array_parts(features)
    schema: dict[str, Any] = {
        "features": infer_schema(features).to_json(),
        "targets": None,
    }
    profile: dict[str, Any] = {
        "features_shape": list(np.shape(features)),
        "features_size": int(features.size),
        "features_nbytes": int(features.nbytes),
    }
    if targets is not None:
        parts += _array_parts(targets)
        schema["targets"] = infer_schema(targets).to_json()
        profile.update(
            targets_shape=list(np.shape(targets)),
            targets_size=int(targets.size),
            targets_nbytes=int(targets.nbytes),
        )
    return Dataset(
        name,
        _digest(parts),
        "code",
        _source(),
        json.dumps({"mlflow_tensorspec": schema}),
        json.dumps(profile),
    )


def _pandas(frame: Any, name: str) -> Dataset:
    import numpy as np
    import pandas as pd

    from trackline.models.signature import infer_schema

    head = frame.head(_DIGEST_VALUES)
    numeric = head.select_dtypes(include=[np.number]).columns
    strings = [c for c in head.columns if head[c].map(type).eq(str).all()]
    kept = head[[c for c in head.columns if c in set(numeric) or c in strings]]
    parts = [
        pd.util.hash_pandas_object(kept).to_numpy().tobytes(),
        np.int64(len(frame)).tobytes(),
        *(str(c).encode() for c in frame.columns),
    ]
    return Dataset(
        name,
        _digest(parts),
        "code",
        _source(),
        json.dumps({"mlflow_colspec": infer_schema(frame).to_dict()}),
        json.dumps({"num_rows": len(frame), "num_elements": int(frame.size)}),
    )


def _dense(data: Any) -> Any:
    """A numpy array for numpy data, a small sparse matrix or a Series; None otherwise."""
    import numpy as np
    import pandas as pd

    if data is None:
        return None
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, pd.Series):
        return data.to_numpy()
    if hasattr(data, "toarray") and hasattr(data, "shape"):
        rows, cols = data.shape
        if rows * cols <= _MAX_DENSE_VALUES:
            return data.toarray()
    return None


def describe(features: Any, targets: Any = None, name: str | None = None) -> Dataset | None:
    """The dataset entity of training data (a pandas DataFrame, a numpy array or a small
    sparse matrix, with optional targets), or None for data it does not describe."""
    import pandas as pd

    label = name or "dataset"
    if isinstance(features, pd.DataFrame):
        return _pandas(features, label)
    dense = _dense(features)
    if dense is None:
        return None
    return _numpy(dense, _dense(targets), label)


def dataset_input(dataset: Dataset, context_name: str) -> DatasetInput:
    """``dataset`` as a run input used for ``context_name`` (``train``, ``eval``)."""
    return DatasetInput(dataset, [InputTag(DATASET_CONTEXT, context_name)])
