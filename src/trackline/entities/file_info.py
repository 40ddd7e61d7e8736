"""An entry of an artifact listing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True, frozen=True)
class FileInfo:
    """A file or folder in an artifact store, its path relative to the listed root."""

    path: str
    is_dir: bool
    file_size: int | None = None

    def to_dictionary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "is_dir": self.is_dir}
        if self.file_size is not None:
            out["file_size"] = self.file_size
        return out
