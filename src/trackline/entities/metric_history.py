"""A page of one metric's history as three parallel arrays: what a chart or a bulk read
wants, without one :class:`~trackline.entities.Metric` per point."""

from __future__ import annotations

from array import array
from dataclasses import dataclass

from trackline.entities.metric import Metric

__all__ = ["MetricHistory"]


@dataclass(slots=True)
class MetricHistory:
    """The points of metric ``key`` ordered by (timestamp, step, value): ``timestamp`` and
    ``step`` are int64 arrays (typecode ``q``), ``value`` a float64 array (``d``; NaN and
    infinities as themselves); ``token`` names the next page, if any. Standard-library
    arrays: reading a short history must not cost a numpy import (numpy takes them as they
    are, without a copy: ``numpy.frombuffer(history.value)``)."""

    key: str
    timestamp: array[int]
    step: array[int]
    value: array[float]
    token: str | None = None

    def __len__(self) -> int:
        return len(self.value)

    @classmethod
    def from_metrics(
        cls, key: str, points: list[Metric], token: str | None = None
    ) -> MetricHistory:
        """The arrays of ready-made points (what stores without a faster path return)."""
        return cls(
            key,
            array("q", [p.timestamp for p in points]),
            array("q", [p.step for p in points]),
            array("d", [p.value for p in points]),
            token,
        )

    def extend(self, other: MetricHistory) -> None:
        """Append the next page's points; its token becomes this one's."""
        self.timestamp.extend(other.timestamp)
        self.step.extend(other.step)
        self.value.extend(other.value)
        self.token = other.token

    def to_metrics(self) -> list[Metric]:
        """One :class:`Metric` per point, in order."""
        key = self.key
        return [
            Metric(key, value, timestamp, step)
            for timestamp, step, value in zip(
                self.timestamp.tolist(), self.step.tolist(), self.value.tolist(), strict=True
            )
        ]
