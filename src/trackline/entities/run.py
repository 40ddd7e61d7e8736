"""A run: its info, its data (metrics, params, tags), its inputs and outputs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from trackline.entities.dataset import RunInputs, RunOutputs
from trackline.entities.metric import Metric
from trackline.entities.param import Param
from trackline.entities.tag import RunTag


class RunInfo:
    """A run's metadata. ``status`` is a name (``"RUNNING"``); times are epoch milliseconds."""

    __slots__ = (
        "artifact_uri",
        "end_time",
        "experiment_id",
        "lifecycle_stage",
        "run_id",
        "run_name",
        "start_time",
        "status",
        "user_id",
    )

    def __init__(
        self,
        run_uuid: str | None = None,
        experiment_id: str = "",
        user_id: str | None = None,
        status: str = "RUNNING",
        start_time: int | None = None,
        end_time: int | None = None,
        lifecycle_stage: str = "active",
        artifact_uri: str | None = None,
        run_id: str | None = None,
        run_name: str | None = None,
    ) -> None:
        rid = run_id if run_id is not None else run_uuid
        if rid is None:
            raise TypeError("RunInfo needs run_id (or run_uuid)")
        self.run_id: str = rid
        self.experiment_id = str(experiment_id)
        self.user_id = user_id
        self.status = status
        self.start_time = start_time
        self.end_time = end_time
        self.lifecycle_stage = lifecycle_stage
        self.artifact_uri = artifact_uri
        self.run_name = run_name

    @property
    def run_uuid(self) -> str:
        """Deprecated alias of :attr:`run_id`, kept because MLflow code still reads it."""
        return self.run_id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RunInfo):
            return NotImplemented
        return all(getattr(self, a) == getattr(other, a) for a in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{a}={getattr(self, a)!r}" for a in sorted(self.__slots__))
        return f"<RunInfo: {fields}>"

    def to_dictionary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "run_id": self.run_id,
            "run_uuid": self.run_id,
            "experiment_id": self.experiment_id,
            "status": self.status,
            "lifecycle_stage": self.lifecycle_stage,
        }
        for name in ("run_name", "user_id", "start_time", "end_time", "artifact_uri"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


class RunData:
    """A run's latest metric values, params and tags, each readable as a dict."""

    __slots__ = ("_metric_objs", "_metrics", "_params", "_tags")

    def __init__(
        self,
        metrics: Iterable[Metric] | None = None,
        params: Iterable[Param] | None = None,
        tags: Iterable[RunTag] | None = None,
    ) -> None:
        self._metric_objs = list(metrics or ())
        self._metrics = {m.key: m.value for m in self._metric_objs}
        self._params = {p.key: p.value for p in params or ()}
        self._tags = {t.key: t.value for t in tags or ()}

    @classmethod
    def from_dicts(
        cls, metrics: list[Metric], params: dict[str, str], tags: dict[str, str]
    ) -> RunData:
        """A RunData over ready-made dicts of params and tags (taken, not copied): the
        loader of a large search builds them directly instead of one entity per value."""
        data = cls.__new__(cls)
        data._metric_objs = metrics
        data._metrics = {m.key: m.value for m in metrics}
        data._params = params
        data._tags = tags
        return data

    @property
    def metrics(self) -> dict[str, float]:
        """Latest value of each metric."""
        return self._metrics

    @property
    def params(self) -> dict[str, str]:
        return self._params

    @property
    def tags(self) -> dict[str, str]:
        return self._tags

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RunData):
            return NotImplemented
        return (self._metrics, self._params, self._tags) == (
            other._metrics,
            other._params,
            other._tags,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<RunData: metrics={self._metrics!r}, params={self._params!r}, tags={self._tags!r}>"

    def to_dictionary(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self._metric_objs:
            out["metrics"] = [m.to_dictionary() for m in self._metric_objs]
        if self._params:
            out["params"] = [{"key": k, "value": v} for k, v in self._params.items()]
        if self._tags:
            out["tags"] = [{"key": k, "value": v} for k, v in self._tags.items()]
        return out


class Run:
    """A run: ``info``, ``data``, ``inputs`` and ``outputs``."""

    __slots__ = ("_data", "_info", "_inputs", "_outputs")

    def __init__(
        self,
        run_info: RunInfo,
        run_data: RunData | None = None,
        run_inputs: RunInputs | None = None,
        run_outputs: RunOutputs | None = None,
    ) -> None:
        self._info = run_info
        self._data = run_data if run_data is not None else RunData()
        self._inputs = run_inputs if run_inputs is not None else RunInputs()
        self._outputs = run_outputs if run_outputs is not None else RunOutputs()

    @property
    def info(self) -> RunInfo:
        return self._info

    @property
    def data(self) -> RunData:
        return self._data

    @property
    def inputs(self) -> RunInputs:
        return self._inputs

    @property
    def outputs(self) -> RunOutputs:
        return self._outputs

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Run):
            return NotImplemented
        return (self._info, self._data) == (other._info, other._data)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Run: data={self._data!r}, info={self._info!r}>"

    def to_dictionary(self) -> dict[str, Any]:
        return {
            "info": self._info.to_dictionary(),
            "data": self._data.to_dictionary(),
            "inputs": self._inputs.to_dictionary(),
            "outputs": self._outputs.to_dictionary(),
        }
