"""The layers of DESIGN.md import in one direction; this test is the rule's enforcement.

Every ``import`` of a trackline module anywhere in ``src/trackline`` (function-level lazy
imports included: they are dependencies all the same) must go to a layer the importing
layer may use. A new top-level module must be added to ``ALLOWED`` to say where it sits.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "trackline"

# Modules everyone may import; they import nothing above themselves.
BASE = {"exceptions", "version", "validation", "names"}
LOWER = {"entities", "search"} | BASE
STORAGE = {"store", "artifacts"} | LOWER
FLAVORS = {"pyfunc", "sklearn", "xgboost"}

ALLOWED: dict[str, set[str]] = {
    "version": set(),
    "exceptions": set(),
    "names": set(),
    "entities": {"entities"},
    "validation": {"entities", "exceptions"},
    "search": {"search"} | {"entities"} | BASE,
    "store": {"store"} | LOWER,
    "artifacts": {"artifacts"} | LOWER,
    "tracking": {"tracking"} | STORAGE,
    "client": {"tracking"},
    "models": {"models", "tracking"} | STORAGE,
    **{flavor: FLAVORS | {"models", "tracking", "autolog"} | STORAGE for flavor in FLAVORS},
    "autolog": {"autolog", "models", "tracking"} | FLAVORS | STORAGE,
    # server/app.py mounts the web UI (one hook; see test_only_the_app_mounts_the_ui)
    "server": {"server", "ui"} | STORAGE,
    "ui": {"ui", "server"} | STORAGE,
    "cli": {"cli", "server", "ui", "tracking", "models"} | STORAGE,
    "__init__": {"tracking", "models", "autolog", "client"} | FLAVORS | STORAGE,
    "__main__": {"cli"},
}


def _layer(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return parts[0]


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    package = ".".join(("trackline", *path.relative_to(SRC).with_suffix("").parts[:-1]))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            if module == "trackline":
                found += [(node.lineno, f"trackline.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, module))
    return [(line, name) for line, name in found if name.split(".")[0] == "trackline"]


def _target(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


SOURCES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_follow_the_layers(path: Path) -> None:
    layer = _layer(path)
    assert layer in ALLOWED, f"{layer!r} is a new layer: add it to ALLOWED in {__file__}"
    bad = [
        f"line {line}: {module}"
        for line, module in _imports(path)
        if _target(module) not in ALLOWED[layer] and _target(module) != layer
    ]
    assert not bad, f"{path.relative_to(SRC)} ({layer}) imports across the layers: {bad}"


def test_nothing_imports_the_cli() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in SOURCES
        if _layer(path) not in ("cli", "__main__")
        and any(_target(module) == "cli" for _, module in _imports(path))
    ]
    assert offenders == []


def test_server_and_ui_never_use_the_fluent_api() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in SOURCES
        if _layer(path) in ("server", "ui")
        and any(m.startswith("trackline.tracking") or m == "trackline" for _, m in _imports(path))
    ]
    assert offenders == []


def test_only_the_app_mounts_the_ui() -> None:
    importers = [
        str(path.relative_to(SRC))
        for path in SOURCES
        if _layer(path) == "server" and any(_target(m) == "ui" for _, m in _imports(path))
    ]
    assert importers in ([], ["server/app.py"])
