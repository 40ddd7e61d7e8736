"""A metric point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Metric:
    """One point of a metric's history: a value at a timestamp (ms) and a step."""

    key: str
    value: float
    timestamp: int
    step: int = 0
    dataset_name: str | None = None
    dataset_digest: str | None = None
    model_id: str | None = None
    run_id: str | None = None

    def to_dictionary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "value": self.value,
            "timestamp": self.timestamp,
            "step": self.step,
        }
        for name in ("dataset_name", "dataset_digest", "model_id", "run_id"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out
