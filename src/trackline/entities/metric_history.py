"""A page of one metric's history as three parallel arrays: what a chart or a bulk read
wants, without one :class:`~trackline.entities.Metric` per point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trackline.entities.metric import Metric

__all__ = ["MetricHistory"]


@dataclass(slots=True)
class MetricHistory:
    """The points of metric ``key`` ordered by (timestamp, step, value): ``timestamp`` and
    ``step`` are numpy int64 arrays, ``value`` a float64 array (NaN and infinities as
    themselves); ``token`` names the next page, if any. numpy is imported only by the
    stores that build these, never by ``import trackline``."""

    key: str
    timestamp: Any
    step: Any
    value: Any
    token: str | None = None

    def __len__(self) -> int:
        return len(self.value)

    @classmethod
    def from_metrics(
        cls, key: str, points: list[Metric], token: str | None = None
    ) -> MetricHistory:
        """The arrays of ready-made points (what stores without a faster path return)."""
        import numpy as np

        return cls(
            key,
            np.fromiter((p.timestamp for p in points), dtype=np.int64, count=len(points)),
            np.fromiter((p.step for p in points), dtype=np.int64, count=len(points)),
            np.fromiter((p.value for p in points), dtype=np.float64, count=len(points)),
            token,
        )

    def to_metrics(self) -> list[Metric]:
        """One :class:`Metric` per point, in order."""
        key = self.key
        return [
            Metric(key, value, timestamp, step)
            for timestamp, step, value in zip(
                self.timestamp.tolist(), self.step.tolist(), self.value.tolist(), strict=True
            )
        ]
