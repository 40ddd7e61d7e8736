"""The run reads of :class:`~trackline.store.sql.tracking.SqlTrackingStore`: metric histories
and run searches, as entities or column by column.

:class:`RunReadsMixin` checks the arguments and the page token, reads in one transaction and
delegates the SQL to :mod:`~trackline.store.sql.metrics`, :mod:`~trackline.store.sql.runs`,
:mod:`~trackline.store.sql.filters` (the search's query) and
:mod:`~trackline.store.sql.run_columns` (the columnar page).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from trackline.entities import Metric, MetricHistory, PagedList, Run, RunColumns, ViewType
from trackline.search import decode_page_token, encode_page_token
from trackline.store.sql import experiments as experiment_sql
from trackline.store.sql import metrics as metric_sql
from trackline.store.sql import runs as run_sql
from trackline.store.sql.engine import Database
from trackline.store.sql.filters import runs_query
from trackline.store.sql.run_columns import INFO_COLUMNS, load_run_columns
from trackline.store.tracking_store import (
    SEARCH_MAX_RESULTS_DEFAULT,
    SEARCH_MAX_RESULTS_THRESHOLD,
)
from trackline.validation import validate_max_results, validate_run_id

__all__ = ["RunReadsMixin"]


class RunReadsMixin:
    """Metric-history and run-search methods of
    :class:`~trackline.store.sql.tracking.SqlTrackingStore`."""

    db: Database  # provided by SqlTrackingStore

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        """Every point of a metric ordered by (timestamp, step, value); with ``max_results``
        a page of them and the token of the next. An unknown run has no points."""
        validate_run_id(run_id)
        offset = decode_page_token(page_token)
        limit = None
        if max_results is not None:
            limit = validate_max_results(max_results, 2**62)
        with self.db.read() as conn:
            points = metric_sql.metric_history(
                conn, run_id, metric_key, None if limit is None else limit + 1, offset
            )
        token = None
        if limit is not None and len(points) > limit:
            del points[limit:]
            token = encode_page_token(offset + limit)
        return PagedList(points, token)

    def get_metric_history_columns(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> MetricHistory:
        """:meth:`get_metric_history` as arrays, read without an entity per point."""
        validate_run_id(run_id)
        offset = decode_page_token(page_token)
        limit = None if max_results is None else validate_max_results(max_results, 2**62)
        with self.db.read() as conn:
            history = metric_sql.metric_history_columns(
                conn, run_id, metric_key, None if limit is None else limit + 1, offset
            )
        if limit is not None and len(history) > limit:
            del history.timestamp[limit:], history.step[limit:], history.value[limit:]
            history.token = encode_page_token(offset + limit)
        return history

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """A page of runs matching the filter, ``start_time DESC, run_id`` after ``order_by``."""
        ids, limit = self._search_scope(experiment_ids, max_results, page_token)
        if not ids:
            return PagedList([], None)
        with self.db.read() as conn:
            rows, token = self._page_of_runs(
                conn, ids, limit, filter_string, run_view_type, order_by, page_token
            )
            return PagedList(run_sql.load_runs(conn, [str(row[0]) for row in rows]), token)

    @staticmethod
    def _search_scope(
        experiment_ids: Sequence[str], max_results: int, page_token: str | None
    ) -> tuple[list[int], int]:
        """The experiment ids that can match and the page size, the arguments checked."""
        limit = validate_max_results(max_results, SEARCH_MAX_RESULTS_THRESHOLD)
        decode_page_token(page_token)
        ids = [experiment_sql.parse_experiment_id(e) for e in experiment_ids or ()]
        # Ids outside the column's range name no experiment (and PostgreSQL rejects them).
        return [i for i in ids if experiment_sql.in_id_range(i)], limit

    @staticmethod
    def _page_of_runs(
        conn: Connection,
        ids: list[int],
        limit: int,
        filter_string: str | None,
        run_view_type: int,
        order_by: Sequence[str] | None,
        page_token: str | None,
        columns: Sequence[Any] = (),
    ) -> tuple[list[Any], str | None]:
        """One page of matching runs as rows of ``columns`` of ``runs`` (just the run id by
        default), and the next page's token."""
        offset = decode_page_token(page_token)
        query = runs_query(ids, filter_string, run_view_type, order_by, offset, limit + 1)
        if columns:
            query = query.with_only_columns(*columns)
        # Straight from the driver's cursor: SQLAlchemy's row processing doubles the cost
        # of reading 50,000 rows, and these plain columns need none.
        rows = list(conn.execute(query).cursor.fetchall())
        token = encode_page_token(offset + limit) if len(rows) > limit else None
        return rows[:limit], token

    def search_run_columns(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> RunColumns:
        """The page :meth:`search_runs` returns, read column by column (no entities)."""
        ids, limit = self._search_scope(experiment_ids, max_results, page_token)
        if not ids:
            return RunColumns()
        with self.db.read() as conn:
            rows, token = self._page_of_runs(
                conn, ids, limit, filter_string, run_view_type, order_by, page_token, INFO_COLUMNS
            )
            return load_run_columns(conn, rows, token)
