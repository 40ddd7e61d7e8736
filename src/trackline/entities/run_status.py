"""The status of a run."""

from __future__ import annotations


class RunStatus:
    """A run's status; names as MLflow's protocol spells them, numbers as its protobuf enum."""

    RUNNING = 1
    SCHEDULED = 2
    FINISHED = 3
    FAILED = 4
    KILLED = 5

    _NAMES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
    _NUMBERS = {name: number for number, name in _NAMES.items()}

    @staticmethod
    def to_string(status: int) -> str:
        try:
            return RunStatus._NAMES[status]
        except KeyError:
            raise ValueError(f"Could not get string corresponding to run status {status}") from None

    @staticmethod
    def from_string(status: str) -> int:
        try:
            return RunStatus._NUMBERS[status]
        except KeyError:
            raise ValueError(
                f"Could not get run status corresponding to string {status}. "
                f"Valid run status strings: {list(RunStatus._NUMBERS)}"
            ) from None

    @staticmethod
    def is_terminated(status: int | str) -> bool:
        if isinstance(status, str):
            status = RunStatus.from_string(status)
        return status in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)

    @staticmethod
    def all_status() -> list[int]:
        return list(RunStatus._NAMES)
