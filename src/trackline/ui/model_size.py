"""The runs table's *Model size* column: how big the models are that the page's runs logged.

Only the runs of the page shown are looked at (a page holds at most 1,000), in two ways:

* **Logged models** (MLflow 3's layout, what ``log_model`` of trackline and of MLflow 3
  makes): a ``search_logged_models`` of the page's experiments for ``source_run_id IN
  (...)`` per 100 runs (as the run page lists its logged models; the column is indexed), then
  the ``MLmodel`` file at each model's ``artifact_location``. Models whose upload failed are
  left out.
* **Models under the run's artifacts** (MLflow 2's layout), listed in the run tag
  ``mlflow.log-model.history`` (a JSON list of entries with an ``artifact_path``; trackline
  itself never writes it): the entry's ``model_size_bytes`` when the client recorded it there,
  else the ``MLmodel`` file at ``<artifact_path>/MLmodel``. An entry whose ``model_uuid`` is
  one of the run's logged models is that model again and is not counted twice.

A model's size is the ``model_size_bytes`` its ``MLmodel`` records (the files of the model
folder when it was saved); a model whose file records none, or cannot be read, counts but has
no size. No artifact folder is ever walked: one small file per model of the page is read
(through the server's artifact service, so only the stores it is configured with), several at
once when they are not on local disk.

A run that logged several models shows its **largest** (a run that logs a checkpoint per epoch
would otherwise show a sum no single model has); the rows also carry how many models there
are and their total.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from trackline.artifacts.local import LocalArtifactRepository
from trackline.artifacts.repository import ArtifactRepository
from trackline.entities import LoggedModel, LoggedModelStatus, RunColumns
from trackline.exceptions import MlflowException
from trackline.store.tracking_store import TrackingStore
from trackline.ui.artifact_view import checked_path, read_artifact
from trackline.ui.context import UiContext
from trackline.ui.mlmodel import MLMODEL_FILE, recorded_size

__all__ = ["HISTORY_TAG", "MODEL_SIZE_COLUMN", "RunModels", "add_model_sizes", "model_sizes"]

#: The column's id in the table.
MODEL_SIZE_COLUMN = "attributes.model_size"
#: The run tag where MLflow 2's ``log_model`` lists the models under the run's artifacts.
HISTORY_TAG = "mlflow.log-model.history"
#: An ``MLmodel`` file is read up to this size (they are a few KiB).
MAX_MLMODEL_BYTES = 1024 * 1024
#: Run ids per ``source_run_id IN (...)`` search.
_IDS_PER_SEARCH = 100
_PAGE_OF_MODELS = 1000
#: Files read at once from stores that are not local disk (S3: one GET each).
_REMOTE_READERS = 8


@dataclass
class RunModels:
    """The models one run logged: each one's size in bytes (None: not recorded)."""

    sizes: list[int | None] = field(default_factory=list)

    def as_row(self) -> dict[str, Any]:
        """The row fields: ``model_size`` (the largest known size, None without one),
        ``model_count`` and ``model_total`` (the known sizes added, None without one)."""
        known = [size for size in self.sizes if size is not None]
        return {
            "model_size": max(known) if known else None,
            "model_count": len(self.sizes),
            "model_total": sum(known) if known else None,
        }


@dataclass(frozen=True)
class _File:
    """An ``MLmodel`` file to read for a run: the artifact root URI and the path in it."""

    run_id: str
    root: str
    path: str


def _quoted(text: str) -> str:
    """``text`` as a string of the search grammar."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _logged_models(store: TrackingStore, columns: RunColumns) -> Iterable[LoggedModel]:
    """The logged models whose source run is on the page."""
    run_ids = list(dict.fromkeys(columns.run_id))
    experiment_ids = sorted(set(columns.experiment_id))
    for start in range(0, len(run_ids), _IDS_PER_SEARCH):
        chunk = run_ids[start : start + _IDS_PER_SEARCH]
        wanted = f"source_run_id IN ({', '.join(_quoted(r) for r in chunk)})"
        token: str | None = None
        while True:
            page = store.search_logged_models(
                experiment_ids, wanted, max_results=_PAGE_OF_MODELS, page_token=token
            )
            yield from page
            token = page.token
            if not token:
                break


def _history(text: str | None) -> list[dict[str, Any]]:
    """The entries of a ``mlflow.log-model.history`` tag, the last one per artifact path (a
    model logged again to the same path replaced the files)."""
    try:
        entries = json.loads(text) if text else []
    except ValueError:
        return []
    latest: dict[str, dict[str, Any]] = {}
    for entry in entries if isinstance(entries, list) else []:
        path = (entry.get("artifact_path") or "") if isinstance(entry, dict) else None
        if isinstance(path, str):
            latest[path] = entry
    return list(latest.values())


def _recorded(entry: dict[str, Any]) -> int | None:
    size = entry.get("model_size_bytes")
    return size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None


def _read_size(repository: ArtifactRepository | None, path: str) -> int | None:
    if repository is None:
        return None
    try:
        data, truncated = read_artifact(repository, path, MAX_MLMODEL_BYTES)
    except (MlflowException, OSError):  # gone, unreadable, a store down: no size
        return None
    return None if truncated else recorded_size(data.decode("utf-8", errors="replace"))


def _read_sizes(ctx: UiContext, files: Sequence[_File]) -> list[int | None]:
    """The recorded size of each file (None where unreadable), several at once when some
    are on remote stores."""
    repositories: dict[str, ArtifactRepository | None] = {}
    for file in files:
        if file.root not in repositories:
            try:
                repositories[file.root] = ctx.artifacts.repository(file.root)
            except MlflowException:  # outside the server's artifact roots
                repositories[file.root] = None
    jobs = [(repositories[f.root], f.path) for f in files]
    remote = any(r is not None and not isinstance(r, LocalArtifactRepository) for r, _ in jobs)
    if len(jobs) < 2 or not remote:
        return [_read_size(repository, path) for repository, path in jobs]
    with ThreadPoolExecutor(min(_REMOTE_READERS, len(jobs)), "trackline-model-size") as pool:
        return list(pool.map(lambda job: _read_size(*job), jobs))


def model_sizes(ctx: UiContext, columns: RunColumns) -> dict[str, RunModels]:
    """The models each run of the page logged, with their sizes (see the module)."""
    found = {run_id: RunModels() for run_id in columns.run_id}
    files: list[_File] = []
    logged_ids: set[str] = set()
    try:
        logged = list(_logged_models(ctx.store, columns))
    except MlflowException:  # a store without logged models
        logged = []
    for model in logged:
        status = getattr(model.status, "value", model.status)
        if model.source_run_id not in found or status == LoggedModelStatus.FAILED.value:
            continue
        logged_ids.add(model.model_id)
        files.append(_File(model.source_run_id, model.artifact_location, MLMODEL_FILE))
    history = columns.tags.get(HISTORY_TAG)
    for index, text in enumerate(history if history is not None else []):
        run_id, root = columns.run_id[index], columns.artifact_uri[index]
        for entry in _history(text):
            uuid = entry.get("model_uuid")
            if isinstance(uuid, str) and uuid in logged_ids:
                continue
            size = _recorded(entry)
            folder = str(entry.get("artifact_path") or "").strip("/")
            try:
                path = checked_path(f"{folder}/{MLMODEL_FILE}" if folder else MLMODEL_FILE)
            except MlflowException:
                path = ""
            if size is not None or not root or not path:
                found[run_id].sizes.append(size)
            else:
                files.append(_File(run_id, root, path))
    for file, size in zip(files, _read_sizes(ctx, files), strict=True):
        found[file.run_id].sizes.append(size)
    return found


def add_model_sizes(ctx: UiContext, columns: RunColumns, rows: list[dict[str, Any]]) -> None:
    """Give each table row its ``model_size``, ``model_count`` and ``model_total``."""
    found = model_sizes(ctx, columns)
    for row in rows:
        row.update(found.get(row["run_id"], RunModels()).as_row())
