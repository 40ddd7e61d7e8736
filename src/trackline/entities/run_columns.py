"""A page of runs column by column: what a DataFrame of runs is built from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from trackline.entities.run import Run

T = TypeVar("T")


@dataclass(slots=True)
class RunColumns:
    """Runs as parallel columns, one entry per run in search order.

    ``metrics``, ``params`` and ``tags`` map each key to a column (a list or a numpy array)
    holding the run's value or None where the run has none (NaN for metrics; metrics hold
    their latest value). Keys are
    in order of first appearance over the runs. ``token`` names the next page, if any.
    Building these straight from the database skips one entity per value: the DataFrame
    form of a 50,000-run search is mostly this.
    """

    run_id: list[str] = field(default_factory=list)
    experiment_id: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    artifact_uri: list[str | None] = field(default_factory=list)
    start_time: list[int | None] = field(default_factory=list)
    end_time: list[int | None] = field(default_factory=list)
    metrics: dict[str, Sequence[float | None]] = field(default_factory=dict)
    params: dict[str, Sequence[str | None]] = field(default_factory=dict)
    tags: dict[str, Sequence[str | None]] = field(default_factory=dict)
    token: str | None = None

    def __len__(self) -> int:
        return len(self.run_id)

    @classmethod
    def from_runs(cls, runs: Sequence[Run], token: str | None = None) -> RunColumns:
        """The columns of ready-made runs (what stores without a faster path return)."""
        infos = [run.info for run in runs]
        out = cls(
            run_id=[i.run_id for i in infos],
            experiment_id=[i.experiment_id for i in infos],
            status=[i.status for i in infos],
            artifact_uri=[i.artifact_uri for i in infos],
            start_time=[i.start_time for i in infos],
            end_time=[i.end_time for i in infos],
            token=token,
        )
        out.metrics = _columns([run.data.metrics for run in runs])
        out.params = _columns([run.data.params for run in runs])
        out.tags = _columns([run.data.tags for run in runs])
        return out

    def extend(self, other: RunColumns) -> None:
        """Append another page's runs below these (keys new to this page start as None)."""
        before, added = len(self), len(other)
        if not before:  # the first page: take it as it is
            for name in self.__slots__:
                setattr(self, name, getattr(other, name))
            return
        self.run_id.extend(other.run_id)
        self.experiment_id.extend(other.experiment_id)
        self.status.extend(other.status)
        self.artifact_uri.extend(other.artifact_uri)
        self.start_time.extend(other.start_time)
        self.end_time.extend(other.end_time)
        for mine, theirs in (
            (self.metrics, other.metrics),
            (self.params, other.params),
            (self.tags, other.tags),
        ):
            for key in mine:
                column = theirs.get(key)
                mine[key] = [*mine[key], *([None] * added if column is None else column)]
            for key, column in theirs.items():
                if key not in mine:
                    mine[key] = [*([None] * before), *column]
        self.token = other.token


def _columns(rows: Sequence[Mapping[str, T]]) -> dict[str, Sequence[T | None]]:
    columns: dict[str, list[T | None]] = {}
    for row, values in enumerate(rows):
        for key, value in values.items():
            column = columns.get(key)
            if column is None:
                column = columns[key] = [None] * len(rows)
            column[row] = value
    return dict(columns)
