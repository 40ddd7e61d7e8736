"""Searching from the fluent API: ``search_runs`` (a pandas DataFrame or a list of runs)
and ``search_experiments``, both paging through the store until they have everything asked.

With no experiment given, ``search_runs`` searches the active experiment (see
:func:`trackline.set_experiment`), as MLflow does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from trackline.entities import Experiment, Run, RunColumns, ViewType
from trackline.exceptions import InvalidParameterValue
from trackline.tracking.client import TracklineClient
from trackline.tracking.fluent import _client, _experiment_id

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["list_experiments", "search_experiments", "search_runs"]

_PAGE = 50000


def search_experiments(
    view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Experiment]:
    """Experiments matching the filter: all of them, or the first ``max_results``."""
    client = _client()
    out: list[Experiment] = []
    token: str | None = None
    while True:
        want = _PAGE if max_results is None else min(_PAGE, max_results - len(out))
        page = client.search_experiments(view_type, want, filter_string, order_by, token)
        out.extend(page)
        token = page.token
        if not token or (max_results is not None and len(out) >= max_results):
            return out


def list_experiments(
    view_type: int = ViewType.ACTIVE_ONLY, max_results: int | None = None
) -> list[Experiment]:
    """MLflow 1.x's name for :func:`search_experiments`."""
    return search_experiments(view_type, max_results)


def search_runs(
    experiment_ids: str | Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int = 100000,
    order_by: Sequence[str] | None = None,
    output_format: str = "pandas",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> pd.DataFrame | list[Run]:
    """Runs matching ``filter_string`` as a pandas DataFrame (or a list of runs with
    ``output_format="list"``). With no experiment given: the active experiment, or every
    experiment when ``search_all_experiments``."""
    if output_format not in ("pandas", "list"):
        raise InvalidParameterValue(
            f"Unsupported output format: {output_format}. Supported string values are "
            "'pandas' or 'list'"
        )
    client = _client()
    ids = _search_experiment_ids(client, experiment_ids, experiment_names, search_all_experiments)
    if output_format == "pandas":
        from trackline.tracking.frame import columns_to_dataframe

        return columns_to_dataframe(
            _search_columns(client, ids, filter_string, run_view_type, max_results, order_by)
        )
    runs: list[Run] = []
    token: str | None = None
    while ids and len(runs) < max_results:
        want = min(_PAGE, max_results - len(runs))
        page = client.search_runs(ids, filter_string, run_view_type, want, order_by, token)
        runs.extend(page)
        token = page.token
        if not token:
            break
    return runs


def _search_columns(
    client: TracklineClient,
    ids: list[str],
    filter_string: str,
    run_view_type: int,
    max_results: int,
    order_by: Sequence[str] | None,
) -> RunColumns:
    found = RunColumns()
    while ids and len(found) < max_results:
        want = min(_PAGE, max_results - len(found))
        page = client._search_run_columns(
            ids, filter_string, run_view_type, want, order_by, found.token
        )
        found.extend(page)
        if not page.token:
            break
    return found


def _search_experiment_ids(
    client: TracklineClient,
    experiment_ids: str | Sequence[str] | None,
    experiment_names: Sequence[str] | None,
    search_all: bool,
) -> list[str]:
    if isinstance(experiment_ids, (str, int)):
        ids = [str(experiment_ids)]
    else:
        ids = [str(e) for e in experiment_ids or ()]
    for name in experiment_names or ():
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            ids.append(experiment.experiment_id)
    if ids or experiment_names:
        return ids
    if search_all:
        token: str | None = None
        while True:
            page = client.search_experiments(ViewType.ALL, _PAGE, page_token=token)
            ids.extend(e.experiment_id for e in page)
            token = page.token
            if not token:
                return ids
    return [_experiment_id(client)]
