"""The status of a logged model: pending while its files upload, then ready or failed."""

from __future__ import annotations

from enum import Enum


class LoggedModelStatus(str, Enum):
    """A logged model's status, with MLflow's member names and values.

    On the wire the status is the protocol's enum name (``LOGGED_MODEL_READY``) and in SQL its
    number (``2``); :meth:`to_proto_name`, :meth:`to_int` and :meth:`from_value` convert.
    """

    UNSPECIFIED = "UNSPECIFIED"
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"

    def __str__(self) -> str:
        return self.value

    def to_int(self) -> int:
        """The protocol's number of this status (PENDING=1, READY=2, FAILED=3)."""
        return _NUMBERS[self]

    def to_proto_name(self) -> str:
        """The protocol's name of this status (``LOGGED_MODEL_READY``)."""
        return _PROTO_NAMES[self]

    @classmethod
    def from_int(cls, number: int) -> LoggedModelStatus:
        """The status with this protocol number; ValueError for an unknown one."""
        for status, value in _NUMBERS.items():
            if value == number:
                return status
        raise ValueError(f"Unknown logged model status number {number!r}")

    @classmethod
    def from_value(cls, value: LoggedModelStatus | int | str) -> LoggedModelStatus:
        """A status from itself, its number, its name (``READY``) or its protocol name
        (``LOGGED_MODEL_READY``); ValueError for anything else."""
        if isinstance(value, LoggedModelStatus):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return cls.from_int(value)
        if isinstance(value, str):
            text = value.strip().upper()
            if text.isdigit():
                return cls.from_int(int(text))
            for status, name in _PROTO_NAMES.items():
                if text in (status.value, name):
                    return status
            if text == "UPLOAD_FAILED":
                return cls.FAILED
        raise ValueError(
            f"Unknown logged model status {value!r}; expected one of "
            f"{[s.value for s in cls]} or {list(_PROTO_NAMES.values())}"
        )

    @staticmethod
    def is_finalized(status: LoggedModelStatus | int | str) -> bool:
        """Whether the status is final: READY or FAILED."""
        return LoggedModelStatus.from_value(status) in (
            LoggedModelStatus.READY,
            LoggedModelStatus.FAILED,
        )


_NUMBERS = {
    LoggedModelStatus.UNSPECIFIED: 0,
    LoggedModelStatus.PENDING: 1,
    LoggedModelStatus.READY: 2,
    LoggedModelStatus.FAILED: 3,
}
_PROTO_NAMES = {
    LoggedModelStatus.UNSPECIFIED: "LOGGED_MODEL_STATUS_UNSPECIFIED",
    LoggedModelStatus.PENDING: "LOGGED_MODEL_PENDING",
    LoggedModelStatus.READY: "LOGGED_MODEL_READY",
    LoggedModelStatus.FAILED: "LOGGED_MODEL_UPLOAD_FAILED",
}
