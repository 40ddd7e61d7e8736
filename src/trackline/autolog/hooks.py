"""Post-import hooks: run a callback once a library has been imported.

``trackline.autolog()`` enables the integrations of libraries already imported at once and
those of libraries imported later from here, as MLflow does, so that calling it never
imports a framework the program does not use. A finder at the front of ``sys.meta_path``
notices the import of a watched top-level module, lets the regular machinery load it, then
runs the callbacks (each in its own ``try``: a failing callback is logged, never raised into
the program's ``import``).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

__all__ = ["cancel", "when_imported"]

_logger = logging.getLogger("trackline.autolog")

Callback = Callable[[ModuleType], None]

_callbacks: dict[str, list[Callback]] = {}
_lock = threading.RLock()
_finding: set[str] = set()


def when_imported(module_name: str, callback: Callback) -> None:
    """Run ``callback(module)`` once ``module_name`` (a top-level module) is imported: now if
    it already is, else right after its import."""
    module = sys.modules.get(module_name)
    if module is not None:
        callback(module)
        return
    with _lock:
        _callbacks.setdefault(module_name, []).append(callback)
        if not any(isinstance(f, _Finder) for f in sys.meta_path):
            sys.meta_path.insert(0, _Finder())


def cancel(module_name: str) -> None:
    """Forget the callbacks waiting for ``module_name``."""
    with _lock:
        _callbacks.pop(module_name, None)


def _run_callbacks(module: ModuleType) -> None:
    with _lock:
        callbacks = _callbacks.pop(module.__name__, [])
    for callback in callbacks:
        try:
            callback(module)
        except Exception as exc:
            _logger.warning("Autologging for %s could not be enabled: %s", module.__name__, exc)


class _Loader(importlib.abc.Loader):
    """Loads with the real loader, then runs the callbacks."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        # The module sees its real loader (resources, reloads), not this wrapper.
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        _run_callbacks(sys.modules.get(module.__name__, module))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the loader the other finders find for watched modules."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _callbacks or fullname in _finding:
            return None
        _finding.add(fullname)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            _finding.discard(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _Loader(spec.loader)
        return spec
