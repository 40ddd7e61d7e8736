"""The artifact browser: a run's folders, previews of its files, and MLmodel directories.

``/runs/<id>/artifacts?path=<p>`` shows the folder ``p`` (or the folder of the file ``p``
with that file previewed). Previews: text (the first MiB), JSON pretty-printed, CSV and TSV
as a table (the first 500 rows), images (through ``/get-artifact``), anything else as a
download. A folder holding an ``MLmodel`` file is shown as a model: flavors, signature, size
and the code to load it and predict.

Paths go through :func:`~trackline.artifacts.paths.check_artifact_path` and the run's root
through the server's :class:`~trackline.server.routes.artifacts.ArtifactService`, which only
reads roots the server is configured with; a local file must also resolve inside its root
with symlinks followed. Every name and every byte of a file reach the page as text, escaped.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from trackline.artifacts.local import LocalArtifactRepository
from trackline.artifacts.paths import check_artifact_path
from trackline.artifacts.repository import ArtifactRepository
from trackline.exceptions import InvalidParameterValue, MlflowException, ResourceDoesNotExist
from trackline.ui import urls
from trackline.ui.context import UiContext
from trackline.ui.mlmodel import MLMODEL_FILE, describe_model, snippets
from trackline.ui.rendering import Page, Query
from trackline.ui.summary import run_summary

__all__ = ["artifacts_page", "checked_path", "folder_listing", "read_artifact"]

MAX_TEXT_BYTES = 1024 * 1024
MAX_TABLE_ROWS = 500
MAX_TABLE_COLUMNS = 100
#: Files listed at most when adding up a model directory's size.
MAX_SIZE_ENTRIES = 10_000
IMAGES = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico"})
TABLES = {"csv": ",", "tsv": "\t"}
TEXTS = frozenset(
    ("txt", "log", "err", "out", "md", "rst", "py", "yaml", "yml", "json", "toml", "ini", "cfg",
     "conf", "xml", "html", "htm", "js", "ts", "css", "sh", "sql", "r", "scala", "java", "c",
     "h", "cpp", "go", "rs", "properties", "mlproject", "mlmodel", "ipynb", "lock")
)  # fmt: skip


def checked_path(path: str | None) -> str:
    """An artifact path from a request, checked (no traversal, valid UTF-8), relative."""
    rel = check_artifact_path(path)
    if "\ufffd" in rel:
        raise InvalidParameterValue("Invalid artifact path: it contains bytes that are not UTF-8")
    return rel


def _entry(run_id: str, path: str, is_dir: bool, size: int | None) -> dict[str, Any]:
    return {
        "path": path,
        "name": path.rpartition("/")[2],
        "is_dir": is_dir,
        "size": size,
        "url": urls.artifacts(run_id, path),
        "download": None if is_dir else urls.artifact_download(run_id, path),
    }


def folder_listing(ctx: UiContext, run_id: str, path: str) -> dict[str, Any]:
    """The files of one folder of a run's artifacts, or the error that kept them hidden."""
    try:
        _, repo = ctx.artifacts.run_repository(run_id)
        infos = repo.list_artifacts(checked_path(path) or None)
    except MlflowException as exc:
        return {"path": path, "files": [], "error": exc.message, "is_model": False,
                "parent_url": None}  # fmt: skip
    files = [_entry(run_id, i.path, i.is_dir, i.file_size) for i in infos]
    files.sort(key=lambda f: (not f["is_dir"], f["name"]))
    is_model = any(f["name"] == MLMODEL_FILE and not f["is_dir"] for f in files)
    parent = urls.artifacts(run_id, path.rpartition("/")[0]) if path else None
    return {"path": path, "files": files, "error": None, "is_model": is_model, "parent_url": parent}


def read_artifact(repo: ArtifactRepository, rel: str, limit: int) -> tuple[bytes, bool]:
    """The first ``limit`` bytes of an artifact file, and whether there is more."""
    if isinstance(repo, LocalArtifactRepository):
        root = os.path.realpath(repo.root)
        real = os.path.realpath(repo.root / rel)
        if not real.startswith(root + os.sep) or not os.path.isfile(real):
            raise ResourceDoesNotExist(f"No artifact file at '{rel}'")
        with open(real, "rb") as handle:
            data = handle.read(limit + 1)
        return data[:limit], len(data) > limit
    scratch = tempfile.mkdtemp(prefix="trackline-ui-")
    try:
        local = Path(repo.download_artifacts(rel, scratch))
        with open(local, "rb") as handle:
            data = handle.read(limit + 1)
        return data[:limit], len(data) > limit
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _text(data: bytes) -> str | None:
    if b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3:  # a character cut by the size limit
            return data[: exc.start].decode("utf-8", errors="replace")
        return None


def _table(text: str, delimiter: str, truncated: bool) -> dict[str, Any]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = []
    for row in reader:
        rows.append(row[:MAX_TABLE_COLUMNS])
        if len(rows) > MAX_TABLE_ROWS:
            truncated = True
            break
    if truncated and len(rows) > 1:
        rows.pop()  # the last row may be cut short
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    return {"kind": "table", "header": header, "rows": body, "truncated": truncated}


def _preview(repo: ArtifactRepository, run_id: str, rel: str) -> dict[str, Any]:
    name = rel.rpartition("/")[2]
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    download = urls.artifact_download(run_id, rel)
    if extension in IMAGES:
        return {"kind": "image", "url": download}
    data, truncated = read_artifact(repo, rel, MAX_TEXT_BYTES)
    text = _text(data)
    if text is None:
        return {"kind": "binary", "url": download}
    if extension in TABLES:
        return _table(text, TABLES[extension], truncated)
    if extension == "json" and not truncated:
        try:
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    language = "yaml" if name == MLMODEL_FILE else extension
    return {"kind": "text", "text": text, "truncated": truncated, "language": language}


def _folder_size(repo: ArtifactRepository, rel: str) -> int | None:
    total, pending, seen = 0, [rel], 0
    while pending:
        for info in repo.list_artifacts(pending.pop() or None):
            seen += 1
            if seen > MAX_SIZE_ENTRIES:
                return None
            if info.is_dir:
                pending.append(info.path)
            else:
                total += info.file_size or 0
    return total


def _model(repo: ArtifactRepository, run_id: str, folder: str, base_url: str) -> dict[str, Any]:
    path = f"{folder}/{MLMODEL_FILE}" if folder else MLMODEL_FILE
    data, _ = read_artifact(repo, path, MAX_TEXT_BYTES)
    model = describe_model(data.decode("utf-8", errors="replace"), _folder_size(repo, folder))
    model_uri = f"runs:/{run_id}/{folder}" if folder else f"runs:/{run_id}"
    model["uri"] = model_uri
    model["path"] = folder
    model.setdefault("error", None)
    model["snippets"] = [] if model["error"] else snippets(model, model_uri, base_url)
    return model


def _breadcrumbs(run_id: str, rel: str) -> list[dict[str, str]]:
    crumbs = [{"name": "artifacts", "url": urls.artifacts(run_id, "")}]
    parts = [p for p in rel.split("/") if p]
    for index, part in enumerate(parts):
        crumbs.append({"name": part, "url": urls.artifacts(run_id, "/".join(parts[: index + 1]))})
    return crumbs


def artifacts_page(ctx: UiContext, query: Query) -> Page:
    """A folder of a run's artifacts, or a file of it previewed."""
    run_id = query.path["run_id"]
    rel = checked_path(query.get("path"))
    run = ctx.store.get_run(run_id)
    summary = run_summary(ctx, run)
    _, repo = ctx.artifacts.run_repository(run_id)
    folder, selected = rel, None
    if rel:
        parent = rel.rpartition("/")[0]
        match = [i for i in repo.list_artifacts(parent or None) if i.path == rel]
        if not match:
            raise ResourceDoesNotExist(f"No artifact at '{rel}' in run '{run_id}'")
        if not match[0].is_dir:
            folder, selected = parent, _entry(run_id, rel, False, match[0].file_size)
    listing = folder_listing(ctx, run_id, folder)
    preview = _preview(repo, run_id, rel) if selected is not None else None
    model = None
    if listing["is_model"] and (selected is None or selected["name"] == MLMODEL_FILE):
        model = _model(repo, run_id, folder, query.base_url)
    data = {
        "run": summary,
        "path": rel,
        "folder": listing,
        "breadcrumbs": _breadcrumbs(run_id, rel),
        "selected": selected,
        "preview": preview,
        "model": model,
    }
    return Page("artifacts.html", f"{summary['name']}: artifacts", data)
