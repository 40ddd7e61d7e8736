"""Entities as MLflow's wire shows them: :func:`experiment_json`, :func:`run_json` and friends
build the dicts of responses.

Keys are snake_case, int64 values are numbers, non-finite doubles are strings
(:func:`double_json`), and unset or empty fields are left out;
:func:`trackline.server.wire.dumps` encodes the result.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from trackline.entities import (
    DatasetInput,
    Experiment,
    Metric,
    Run,
    RunInfo,
    RunInputs,
    RunOutputs,
)

__all__ = ["double_json", "experiment_json", "metric_json", "run_info_json", "run_json"]


def double_json(value: float) -> float | str:
    """A double as MLflow's JSON spells it: NaN and infinities become strings."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _key_values(items: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in items]


def experiment_json(experiment: Experiment) -> dict[str, Any]:
    """An :class:`Experiment` as the wire shows it."""
    out: dict[str, Any] = {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": experiment.lifecycle_stage,
    }
    if experiment.last_update_time is not None:
        out["last_update_time"] = experiment.last_update_time
    if experiment.creation_time is not None:
        out["creation_time"] = experiment.creation_time
    if experiment.tags:
        out["tags"] = _key_values(experiment.tags.items())
    return out


def run_info_json(info: RunInfo) -> dict[str, Any]:
    """A :class:`RunInfo` with both ``run_id`` and its alias ``run_uuid``."""
    out: dict[str, Any] = {
        "run_id": info.run_id,
        "run_uuid": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        "status": info.status,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "artifact_uri": info.artifact_uri,
        "lifecycle_stage": info.lifecycle_stage,
    }
    return {k: v for k, v in out.items() if v is not None and v != ""}


def metric_json(metric: Metric) -> dict[str, Any]:
    """A metric point; a non-finite value is a string."""
    out: dict[str, Any] = {
        "key": metric.key,
        "value": double_json(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }
    for name in ("dataset_name", "dataset_digest", "model_id", "run_id"):
        value = getattr(metric, name)
        if value:
            out[name] = value
    return out


def _dataset_input_json(dataset_input: DatasetInput) -> dict[str, Any]:
    ds = dataset_input.dataset
    dataset = {
        "name": ds.name,
        "digest": ds.digest,
        "source_type": ds.source_type,
        "source": ds.source,
        "schema": ds.schema,
        "profile": ds.profile,
    }
    out: dict[str, Any] = {"dataset": {k: v for k, v in dataset.items() if v is not None}}
    if dataset_input.tags:
        out["tags"] = _key_values((t.key, t.value) for t in dataset_input.tags)
    return out


def _inputs_json(inputs: RunInputs) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if inputs.dataset_inputs:
        out["dataset_inputs"] = [_dataset_input_json(d) for d in inputs.dataset_inputs]
    if inputs.model_inputs:
        out["model_inputs"] = [{"model_id": m.model_id} for m in inputs.model_inputs]
    return out


def _outputs_json(outputs: RunOutputs) -> dict[str, Any]:
    if not outputs.model_outputs:
        return {}
    return {
        "model_outputs": [{"model_id": m.model_id, "step": m.step} for m in outputs.model_outputs]
    }


def run_json(run: Run) -> dict[str, Any]:
    """A :class:`Run`: info, data (latest metrics, params, tags), inputs and outputs.

    ``inputs`` and ``outputs`` are present even when empty (``{}``), as MLflow's server
    sends them.
    """
    data: dict[str, Any] = {}
    metrics = run.data.to_dictionary().get("metrics")
    if metrics:
        for point in metrics:
            point["value"] = double_json(point["value"])
        data["metrics"] = metrics
    if run.data.params:
        data["params"] = _key_values(run.data.params.items())
    if run.data.tags:
        data["tags"] = _key_values(run.data.tags.items())
    return {
        "info": run_info_json(run.info),
        "data": data,
        "inputs": _inputs_json(run.inputs),
        "outputs": _outputs_json(run.outputs),
    }
