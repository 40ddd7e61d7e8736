"""The registration status of a model version."""

from __future__ import annotations

from enum import Enum


class ModelVersionStatus(str, Enum):
    """A model version's status with MLflow's names; its protocol numbers are 1, 2 and 3."""

    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"
    READY = "READY"

    def __str__(self) -> str:
        return self.value

    def to_int(self) -> int:
        """The protocol's number of this status."""
        return list(ModelVersionStatus).index(self) + 1

    @classmethod
    def from_value(cls, value: ModelVersionStatus | int | str) -> ModelVersionStatus:
        """A status from itself, its number or its name (any case); ValueError otherwise."""
        if isinstance(value, ModelVersionStatus):
            return value
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 3:
            return list(cls)[value - 1]
        if isinstance(value, str):
            text = value.strip().upper()
            if text.isdigit():
                return cls.from_value(int(text))
            if text in cls.__members__:
                return cls[text]
        raise ValueError(
            f"Unknown model version status {value!r}; expected one of {[s.value for s in cls]}"
        )
