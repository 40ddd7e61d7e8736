"""The REST store's columnar reads: a search's DataFrame and a metric's history through
trackline's ``/api/2.0/trackline`` endpoints (:mod:`trackline.store.column_wire`), and
MLflow's per-object calls against a server that lacks them.

The first such read finds out which kind of server answers (an MLflow server, or an older
trackline one, answers ENDPOINT_NOT_FOUND) and the store remembers it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trackline.entities import Metric, MetricHistory, PagedList, RunColumns, ViewType
from trackline.exceptions import ENDPOINT_NOT_FOUND, MlflowException
from trackline.store import column_wire
from trackline.store.rest import codec
from trackline.store.rest.http import HttpSession
from trackline.store.tracking_store import SEARCH_MAX_RESULTS_DEFAULT, TrackingStore

__all__ = ["HISTORY_PAGE", "ColumnarTrackingStore", "search_runs_body"]

_TRACKLINE_API = "api/2.0/trackline/"
#: Points per columnar history request when every point is asked for (24 MB of arrays).
HISTORY_PAGE = 1_000_000


def search_runs_body(
    experiment_ids: Sequence[str],
    filter_string: str | None,
    run_view_type: int,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None,
) -> dict[str, Any]:
    """The body of a ``runs/search`` request (and of its columnar twin)."""
    body: dict[str, Any] = {"experiment_ids": [str(e) for e in experiment_ids]}
    if filter_string:
        body["filter"] = filter_string
    body["run_view_type"] = codec.view_type_name(run_view_type)
    body["max_results"] = max_results
    if order_by:
        body["order_by"] = list(order_by)
    if page_token:
        body["page_token"] = page_token
    return body


class ColumnarTrackingStore(TrackingStore):
    """The columnar half of :class:`~trackline.store.rest.tracking.RestTrackingStore`."""

    session: HttpSession
    #: Whether the server has the columnar endpoints (None until the first read tells).
    columnar: bool | None = None

    def _columnar_call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any] | None:
        """The answer of a columnar endpoint, or None when the server has none."""
        if self.columnar is False:
            return None
        try:
            answer = self.session.call(method, _TRACKLINE_API + path, **kwargs)
        except MlflowException as exc:
            if exc.error_code != ENDPOINT_NOT_FOUND:
                raise
            self.columnar = False
            return None
        self.columnar = True
        return answer

    def search_run_columns(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> RunColumns:
        """The page :meth:`search_runs` returns, as columns."""
        body = search_runs_body(
            experiment_ids, filter_string, run_view_type, max_results, order_by, page_token
        )
        answer = self._columnar_call(
            "POST", column_wire.SEARCH_COLUMNS_PATH, body=codec.encode(body)
        )
        if answer is None:
            return super().search_run_columns(
                experiment_ids, filter_string, run_view_type, max_results, order_by, page_token
            )
        return column_wire.run_columns_from_json(answer)

    def get_metric_history_columns(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> MetricHistory:
        """A metric's points as arrays: one page with ``max_results``, else all of them."""
        if max_results is not None:
            page = self._history_columns_page(run_id, metric_key, max_results, page_token)
            if page is not None:
                return page
            return super().get_metric_history_columns(run_id, metric_key, max_results, page_token)
        history: MetricHistory | None = None
        token = page_token
        while True:
            page = self._history_columns_page(run_id, metric_key, HISTORY_PAGE, token)
            if page is None:
                return super().get_metric_history_columns(run_id, metric_key, None, token)
            if history is None:
                history = page
            else:
                history.extend(page)
            token = page.token
            if not token:
                return history

    def _history_columns_page(
        self, run_id: str, metric_key: str, max_results: int, page_token: str | None
    ) -> MetricHistory | None:
        params: dict[str, Any] = {
            "run_id": run_id,
            "metric_key": metric_key,
            "max_results": max_results,
        }
        if page_token:
            params["page_token"] = page_token
        answer = self._columnar_call("GET", column_wire.HISTORY_COLUMNS_PATH, params=params)
        return None if answer is None else column_wire.history_from_json(metric_key, answer)

    def _columnar_history(
        self, run_id: str, metric_key: str, max_results: int | None, page_token: str | None
    ) -> PagedList[Metric] | None:
        """:meth:`get_metric_history` through the columnar endpoint, or None when the server
        is known to have none (the caller then reads MLflow's pages)."""
        if self.columnar is False:
            return None
        # On the first call to a server without the endpoint this reads MLflow's pages
        # itself (through the caller, which then knows to go there directly).
        history = self.get_metric_history_columns(run_id, metric_key, max_results, page_token)
        return PagedList(history.to_metrics(), history.token)
