"""A one-line progress display on stderr for large artifact transfers.

Neither ``rich`` nor ``tqdm`` is a dependency of trackline, so the display is a single line
redrawn in place (``\\r``). It shows only when stderr is a terminal and the transfer is large
(more than :data:`PROGRESS_THRESHOLD_BYTES`, or at least :data:`MANY_FILES` files): logs and
captured output stay clean. It is safe to advance from several threads at once (boto3 reports
progress from its worker threads).
"""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import TextIO

__all__ = ["MANY_FILES", "PROGRESS_THRESHOLD_BYTES", "TransferProgress"]

#: Transfers larger than this (in bytes, all files together) show progress.
PROGRESS_THRESHOLD_BYTES = 100 * 1024 * 1024
#: Transfers of at least this many files show progress, whatever their size.
MANY_FILES = 100

_MB = 1024 * 1024


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


class TransferProgress:
    """Progress of one transfer of ``total_bytes`` in ``files`` files, drawn on ``stream``
    (default: stderr) as ``label:  42% (120.0/300.0 MB, 3/7 files)``.

    Use it as a context manager around the transfer; :meth:`advance` counts bytes (a negative
    count rewinds, as a retried part does) and :meth:`file_done` counts finished files.
    """

    def __init__(
        self,
        label: str,
        total_bytes: int,
        files: int = 1,
        *,
        stream: TextIO | None = None,
        threshold: int = PROGRESS_THRESHOLD_BYTES,
        many_files: int = MANY_FILES,
    ) -> None:
        self.label = label
        self.total_bytes = max(total_bytes, 0)
        self.files = files
        self.done_bytes = 0
        self.done_files = 0
        self._stream = stream if stream is not None else sys.stderr
        self.enabled = _is_terminal(self._stream) and (
            self.total_bytes > threshold or files >= many_files
        )
        self._lock = threading.Lock()
        self._shown: tuple[int, int] | None = None

    def __enter__(self) -> TransferProgress:
        self._draw()
        return self

    def advance(self, count: int) -> None:
        """Count ``count`` more bytes transferred."""
        if not self.enabled:
            return
        with self._lock:
            self.done_bytes = max(0, self.done_bytes + count)
            self._draw()

    def file_done(self) -> None:
        """Count one more file finished."""
        if not self.enabled:
            return
        with self._lock:
            self.done_files += 1
            self._draw()

    def _draw(self) -> None:
        if not self.enabled:
            return
        percent = min(100, self.done_bytes * 100 // max(self.total_bytes, 1))
        if self._shown == (percent, self.done_files):
            return
        self._shown = (percent, self.done_files)
        line = (
            f"{self.label}: {percent:3d}% "
            f"({self.done_bytes / _MB:.1f}/{self.total_bytes / _MB:.1f} MB"
        )
        if self.files > 1:
            line += f", {self.done_files}/{self.files} files"
        self._stream.write(f"\r{line})")
        self._stream.flush()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.enabled and self._shown is not None:
            self._stream.write("\n")
            self._stream.flush()
