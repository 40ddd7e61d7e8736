"""A logged model: a model (its MLmodel directory) logged to an experiment, usually by a run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from trackline.entities.logged_model_parameter import LoggedModelParameter
from trackline.entities.logged_model_status import LoggedModelStatus
from trackline.entities.logged_model_tag import LoggedModelTag
from trackline.entities.metric import Metric


def _as_dict(
    items: Iterable[LoggedModelTag | LoggedModelParameter] | Mapping[str, str] | None,
) -> dict[str, str]:
    if items is None:
        return {}
    if isinstance(items, Mapping):
        return dict(items)
    return {item.key: item.value for item in items}


class LoggedModel:
    """A model logged to an experiment, with MLflow's attribute names.

    ``model_id`` is ``m-<32 hex digits>``; ``artifact_location`` is where its files live
    (``<experiment artifact location>/models/<model_id>/artifacts``); times are epoch
    milliseconds; ``status`` is a :class:`LoggedModelStatus` (given as one, as its number or
    as its name); ``tags`` and ``params`` read as dicts; ``metrics`` is every metric point
    logged to the model (each with its ``model_id``, ``run_id`` and dataset, when known).
    """

    __slots__ = (
        "_params",
        "_tags",
        "artifact_location",
        "creation_timestamp",
        "experiment_id",
        "last_updated_timestamp",
        "lifecycle_stage",
        "metrics",
        "model_id",
        "model_type",
        "name",
        "source_run_id",
        "status",
        "status_message",
    )

    def __init__(
        self,
        experiment_id: str,
        model_id: str,
        name: str,
        artifact_location: str,
        creation_timestamp: int,
        last_updated_timestamp: int,
        model_type: str | None = None,
        source_run_id: str | None = None,
        status: LoggedModelStatus | int | str = LoggedModelStatus.READY,
        status_message: str | None = None,
        tags: Iterable[LoggedModelTag] | Mapping[str, str] | None = None,
        params: Iterable[LoggedModelParameter] | Mapping[str, str] | None = None,
        metrics: Iterable[Metric] | None = None,
        lifecycle_stage: str = "active",
    ) -> None:
        self.experiment_id = str(experiment_id)
        self.model_id = model_id
        self.name = name
        self.artifact_location = artifact_location
        self.creation_timestamp = creation_timestamp
        self.last_updated_timestamp = last_updated_timestamp
        self.model_type = model_type
        self.source_run_id = source_run_id
        self.status = LoggedModelStatus.from_value(status)
        self.status_message = status_message
        self._tags = _as_dict(tags)
        self._params = _as_dict(params)
        self.metrics: list[Metric] = list(metrics or ())
        self.lifecycle_stage = lifecycle_stage

    @property
    def tags(self) -> dict[str, str]:
        """The model's tags as a dict of key to value."""
        return self._tags

    @property
    def params(self) -> dict[str, str]:
        """The model's params as a dict of key to value."""
        return self._params

    @property
    def model_uri(self) -> str:
        """The URI that loads this model: ``models:/<model_id>``."""
        return f"models:/{self.model_id}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LoggedModel):
            return NotImplemented
        return all(getattr(self, a) == getattr(other, a) for a in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"<LoggedModel: model_id={self.model_id!r}, name={self.name!r}, "
            f"experiment_id={self.experiment_id!r}, status={self.status.value!r}, "
            f"source_run_id={self.source_run_id!r}>"
        )

    def to_dictionary(self) -> dict[str, Any]:
        """The model as a plain dict (unset fields left out, metrics as dicts)."""
        out: dict[str, Any] = {
            "model_id": self.model_id,
            "experiment_id": self.experiment_id,
            "name": self.name,
            "artifact_location": self.artifact_location,
            "creation_timestamp": self.creation_timestamp,
            "last_updated_timestamp": self.last_updated_timestamp,
            "status": self.status.value,
            "tags": dict(self._tags),
            "params": dict(self._params),
            "metrics": [m.to_dictionary() for m in self.metrics],
        }
        for name in ("model_type", "source_run_id", "status_message"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out
