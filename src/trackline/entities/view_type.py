"""Which lifecycle stages a search returns."""

from __future__ import annotations


class ViewType:
    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3

    _NAMES = {1: "ACTIVE_ONLY", 2: "DELETED_ONLY", 3: "ALL"}
    _NUMBERS = {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3}

    @classmethod
    def from_string(cls, view_str: str) -> int:
        key = view_str.upper()
        if key not in cls._NUMBERS:
            raise ValueError(
                f"Could not get valid view type corresponding to string {view_str}. "
                f"Valid view types are {list(cls._NUMBERS)}"
            )
        return cls._NUMBERS[key]

    @classmethod
    def to_string(cls, view_type: int) -> str:
        if view_type not in cls._NAMES:
            raise ValueError(
                f"Could not get valid view type corresponding to {view_type}. "
                f"Valid view types are {list(cls._NAMES)}"
            )
        return cls._NAMES[view_type]
