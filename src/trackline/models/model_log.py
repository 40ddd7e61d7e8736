"""``log_model``: the sequence every flavor's ``log_model`` shares, as MLflow 3 runs it.

1. Create a logged model (PENDING) in the active run's experiment, named ``name`` (or
   ``artifact_path``, MLflow 2's argument), with the run's params (plus ``params``), the
   system tags (plus ``tags``) and ``source_run_id`` = the active run (there may be none:
   then the model belongs to the active experiment alone, as in MLflow 3).
2. Record it as an output of the run at ``step`` and copy the run's metrics of that step
   onto it (each point again, now carrying the model's id).
3. Save the model into a temporary folder with the flavor's ``save_model``.
4. Upload the folder to the model's artifact location
   (``<experiment artifact root>/models/<model_id>/artifacts``).
5. Mark the model READY (FAILED if saving or uploading raised, and the error propagates).
6. With ``registered_model_name``, register ``models:/<model_id>`` under that name.

The :class:`~trackline.models.model.ModelInfo` returned carries ``model_uri``
(``models:/<model_id>``), ``model_id``, ``run_id``, ``flavors``, ``signature``,
``registered_model_version`` and the logged model's params, metrics and tags.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trackline.entities import LoggedModelOutput, LoggedModelStatus, Metric
from trackline.exceptions import InvalidParameterValue
from trackline.models.location import current_client
from trackline.models.model import Model, ModelInfo

if TYPE_CHECKING:
    from trackline.entities import LoggedModel
    from trackline.tracking.client import TracklineClient

__all__ = ["log_model"]

_METRICS_PER_BATCH = 1000

SaveModel = Callable[..., None]


def _experiment_id(client: TracklineClient, run_id: str | None) -> str:
    if run_id is not None:
        return client.get_run(run_id).info.experiment_id
    from trackline.tracking import fluent

    return fluent._experiment_id(client)


def _create(
    client: TracklineClient,
    name: str | None,
    run_id: str | None,
    params: Mapping[str, Any] | None,
    tags: Mapping[str, Any] | None,
    model_type: str | None,
) -> LoggedModel:
    from trackline.tracking import context

    run_params = client.get_run(run_id).data.params if run_id else {}
    all_params = {**{str(k): str(v) for k, v in (params or {}).items()}, **run_params}
    all_tags = context.resolve_tags(tags)
    return client.create_logged_model(
        _experiment_id(client, run_id),
        name,
        run_id,
        tags=all_tags,
        params=all_params,
        model_type=model_type,
    )


def _link_to_run(client: TracklineClient, model_id: str, run_id: str, step: int) -> None:
    """Record the model as the run's output and copy the run's metrics of ``step`` to it."""
    output = LoggedModelOutput(model_id, step)
    client.log_outputs(run_id, [output])
    from trackline.tracking import fluent

    active = fluent.active_run()
    if active is not None and active.info.run_id == run_id:
        active.outputs.model_outputs.append(output)
    copies: list[Metric] = []
    for key in client.get_run(run_id).data.metrics:
        for point in client.get_metric_history(run_id, key):
            if point.step == step and point.model_id is None:
                copies.append(
                    Metric(
                        point.key,
                        point.value,
                        point.timestamp,
                        point.step,
                        point.dataset_name,
                        point.dataset_digest,
                        model_id,
                        run_id,
                    )
                )
    for start in range(0, len(copies), _METRICS_PER_BATCH):
        batch = copies[start : start + _METRICS_PER_BATCH]
        client.log_batch(run_id, metrics=batch, synchronous=True)


def _upload(client: TracklineClient, logged: LoggedModel, folder: Path) -> None:
    """Copy the saved model folder to the model's artifact location (known from ``logged``:
    ``log_model_artifacts`` would read the whole model, metrics included, again to find it)."""
    location = logged.artifact_location
    if not location:
        raise InvalidParameterValue(f"Logged model '{logged.model_id}' has no artifact location")
    client._artifact_repository(location).log_artifacts(folder)


def _register(model_id: str, name: str, tags: Mapping[str, Any] | None, wait: int | None) -> int:
    from trackline.tracking.registry import register_model

    uri = f"models:/{model_id}"
    if wait is None:
        version = register_model(uri, name, tags=tags)
    else:
        version = register_model(uri, name, wait, tags=tags)
    return int(version.version)


def log_model(
    save_model: SaveModel,
    *,
    flavor_name: str,
    artifact_path: str | None = None,
    name: str | None = None,
    registered_model_name: str | None = None,
    await_registration_for: int | None = None,
    metadata: dict[str, Any] | None = None,
    run_id: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    **save_kwargs: Any,
) -> ModelInfo:
    """Log a model with a flavor's ``save_model(path=..., mlflow_model=..., **save_kwargs)``
    (see the module's docstring for the sequence). ``flavor_name`` is informative."""
    if name is not None and artifact_path is not None:
        raise InvalidParameterValue(
            "Both `artifact_path` (MLflow 2's name for it) and `name` were given; give `name`."
        )
    name = name if name is not None else artifact_path
    client = current_client()
    if run_id is None:
        from trackline.tracking import fluent

        active = fluent.active_run()
        run_id = active.info.run_id if active is not None else None
    if model_id is not None:
        logged = client.get_logged_model(model_id)
    else:
        logged = _create(client, name, run_id, params, tags, model_type)
    try:
        if run_id is not None:
            _link_to_run(client, logged.model_id, run_id, step)
        mlflow_model = Model(
            artifact_path=logged.artifact_location,
            run_id=run_id,
            model_uuid=logged.model_id,
            metadata=metadata,
            model_id=logged.model_id,
        )
        with tempfile.TemporaryDirectory(prefix="trackline-model-") as tmp:
            local = Path(tmp) / "model"
            save_model(path=str(local), mlflow_model=mlflow_model, **save_kwargs)
            _upload(client, logged, local)
    except BaseException:
        try:
            client.finalize_logged_model(logged.model_id, LoggedModelStatus.FAILED)
        except Exception:  # keep the original error; the model stays PENDING
            pass
        raise
    logged = client.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
    info = ModelInfo(mlflow_model, logged)
    if registered_model_name is not None:
        info.registered_model_version = _register(
            logged.model_id, registered_model_name, tags, await_registration_for
        )
    return info
