"""The SQL tracking store: experiments and runs in SQLite, PostgreSQL or MySQL/MariaDB.

:class:`SqlTrackingStore` validates its arguments (:mod:`trackline.validation`), opens one
transaction per call through :class:`~trackline.store.sql.engine.Database` and delegates the
SQL to one module per noun: :mod:`~trackline.store.sql.experiments`,
:mod:`~trackline.store.sql.runs`, :mod:`~trackline.store.sql.metrics` and
:mod:`~trackline.store.sql.datasets` (dialect-specific inserts in
:mod:`~trackline.store.sql.upserts`; the hot statements run through
:mod:`~trackline.store.sql.prepared`). Writes are all or nothing: an error anywhere in a call
rolls the whole call back.

This module holds the experiments and the run writes; the store's other methods come from
two mixins: metric histories and run searches from
:class:`~trackline.store.sql.run_reads.RunReadsMixin`, logged models from
:class:`~trackline.store.sql.logged_model_store.LoggedModelStoreMixin`.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from typing import Any, cast
from urllib.parse import urlparse

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from trackline.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    PagedList,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from trackline.exceptions import InvalidParameterValue
from trackline.names import generate_run_name
from trackline.search import decode_page_token, encode_page_token
from trackline.store.sql import datasets as dataset_sql
from trackline.store.sql import experiments as experiment_sql
from trackline.store.sql import logged_models as model_sql
from trackline.store.sql import metrics as metric_sql
from trackline.store.sql import request_keys
from trackline.store.sql import runs as run_sql
from trackline.store.sql.engine import Database
from trackline.store.sql.filters import experiments_query
from trackline.store.sql.logged_model_store import LoggedModelStoreMixin
from trackline.store.sql.run_reads import RunReadsMixin
from trackline.store.tracking_store import (
    SEARCH_MAX_RESULTS_DEFAULT,
    SEARCH_MAX_RESULTS_THRESHOLD,
    TrackingStore,
)
from trackline.validation import (
    validate_batch_log_data,
    validate_dataset_inputs,
    validate_experiment_artifact_location,
    validate_experiment_name,
    validate_experiment_tag,
    validate_max_results,
    validate_param,
    validate_run_id,
    validate_run_name,
    validate_tag,
    validate_tag_name,
)

__all__ = ["SqlTrackingStore"]

_RUN_NAME_TAG = run_sql.RUN_NAME_TAG


def _now() -> int:
    return time.time_ns() // 1_000_000


def _resolve_root(root: str) -> str:
    # A plain path becomes absolute; a URI (file:///..., s3://..., mlflow-artifacts:/...) stays.
    if urlparse(root).scheme == "":
        return os.path.abspath(root)
    return root


def _status_name(status: int | str | None) -> str | None:
    """The status name, or None for an unknown status (MLflow ignores those)."""
    if status is None:
        return None
    if isinstance(status, str):
        if not status.isdigit():
            try:
                return RunStatus.to_string(RunStatus.from_string(status.upper()))
            except ValueError:
                return None
        status = int(status)
    try:
        return RunStatus.to_string(status)
    except ValueError:
        return None


class SqlTrackingStore(RunReadsMixin, LoggedModelStoreMixin, TrackingStore):
    """A :class:`~trackline.store.tracking_store.TrackingStore` on a SQL database.

    ``db_uri`` is a SQLAlchemy URL (``sqlite:///path.db``, ``postgresql://...``,
    ``mysql://...``); ``default_artifact_root`` (a URI or an absolute path) is where new
    experiments put their artifacts, one folder per experiment id. Experiment "0",
    "Default", is created when missing.
    """

    def __init__(self, db_uri: str, default_artifact_root: str) -> None:
        self.db_uri = db_uri
        self.default_artifact_root = _resolve_root(default_artifact_root)
        self.db = Database(db_uri)
        self.dialect = self.db.dialect
        self._keys = request_keys.KeyedCreates(self.db)
        self._ensure_default_experiment()
        metric_sql.compile_statements(self.dialect)

    def _ensure_default_experiment(self) -> None:
        default_id = experiment_sql.DEFAULT_EXPERIMENT_ID
        with self.db.read() as conn:
            if experiment_sql.get_experiment_row(conn, default_id) is not None:
                return
        try:
            with self.db.write() as conn:
                if experiment_sql.get_experiment_row(conn, default_id) is None:
                    experiment_sql.insert_default_experiment(
                        conn, self.dialect, self.default_artifact_root, _now()
                    )
        except IntegrityError:
            pass  # another process created it first

    def close(self) -> None:
        """Release the database connections."""
        self.db.close()

    # -- experiments -----------------------------------------------------------------------

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[ExperimentTag] | None = None,
    ) -> str:
        """Create an experiment; a taken name (even of a deleted one) is 400
        RESOURCE_ALREADY_EXISTS. The default location is ``<root>/<id>``."""
        name = validate_experiment_name(name)
        validate_experiment_artifact_location(artifact_location)
        checked = [validate_experiment_tag(t.key, t.value) for t in tags or ()]
        with self.db.write() as conn:
            return experiment_sql.create_experiment(
                conn, name, artifact_location, checked, self.default_artifact_root, _now()
            )

    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment, deleted or not; 404 when there is none."""
        eid = experiment_sql.parse_experiment_id(experiment_id)
        with self.db.read() as conn:
            found = experiment_sql.load_experiments(conn, [eid])
        if not found:
            raise experiment_sql.experiment_not_found(experiment_id)
        return found[0]

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with exactly this name, deleted or not, or None."""
        if not isinstance(name, str):
            raise InvalidParameterValue(f"Invalid experiment name: {name!r}. Expects a string.")
        with self.db.read() as conn:
            return experiment_sql.get_experiment_by_name(conn, name)

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """A page of experiments matching the filter, ``creation_time DESC`` by default."""
        limit = validate_max_results(max_results, SEARCH_MAX_RESULTS_THRESHOLD)
        offset = decode_page_token(page_token)
        query = experiments_query(view_type, filter_string, order_by, offset, limit + 1)
        with self.db.read() as conn:
            ids = [int(cast(Any, i)) for i in conn.execute(query).scalars()]
            found = experiment_sql.load_experiments(conn, ids[:limit])
        token = encode_page_token(offset + limit) if len(ids) > limit else None
        return PagedList(found, token)

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete the experiment and its active runs."""
        eid = experiment_sql.parse_experiment_id(experiment_id)
        with self.db.write() as conn:
            experiment_sql.delete_experiment(conn, eid, _now())

    def restore_experiment(self, experiment_id: str) -> None:
        """Restore a deleted experiment and the runs its deletion deleted."""
        eid = experiment_sql.parse_experiment_id(experiment_id)
        with self.db.write() as conn:
            experiment_sql.restore_experiment(conn, eid, _now())

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an active experiment."""
        eid = experiment_sql.parse_experiment_id(experiment_id)
        new_name = validate_experiment_name(new_name)
        with self.db.write() as conn:
            experiment_sql.rename_experiment(conn, eid, new_name, _now())

    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None:
        """Insert or replace a tag of an active experiment."""
        eid = experiment_sql.parse_experiment_id(experiment_id)
        key, value = validate_experiment_tag(tag.key, tag.value)
        with self.db.write() as conn:
            experiment_sql.set_experiment_tag(conn, self.dialect, eid, ExperimentTag(key, value))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove a tag of an active experiment; 404 if it has none by that key."""
        eid = experiment_sql.parse_experiment_id(experiment_id)
        validate_tag_name(key)
        with self.db.write() as conn:
            experiment_sql.delete_experiment_tag(conn, eid, key)

    # -- runs ------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        user_id: str | None,
        start_time: int | None,
        tags: Sequence[RunTag],
        run_name: str | None,
        request_key: str | None = None,
    ) -> Run:
        """Create a RUNNING run in an active experiment, naming it if no name is given.

        With ``request_key``, a call with a key already seen returns the run that key's first
        call created (it must be in the same experiment; 400 otherwise). The key is recorded
        in the run's transaction.
        """
        eid = experiment_sql.parse_experiment_id(experiment_id)
        key = None if request_key is None else request_keys.validate_request_key(request_key)
        run_tags: dict[str, str] = {}
        for tag in tags or ():
            checked = validate_tag(tag)
            run_tags[checked.key] = checked.value
        tag_name = run_tags.get(_RUN_NAME_TAG)
        if run_name and tag_name and run_name != tag_name:
            raise InvalidParameterValue(
                "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
                f"different values (run_name='{run_name}', mlflow.runName='{tag_name}')."
            )
        name = validate_run_name(run_name or tag_name or generate_run_name())
        run_tags[_RUN_NAME_TAG] = name
        run_id = uuid.uuid4().hex
        start = _now() if start_time is None else int(start_time)

        def insert(conn: Connection) -> tuple[str, str]:
            row = experiment_sql.require_active_experiment(conn, eid)
            location = row.artifact_location or experiment_sql.artifact_location_for(
                self.default_artifact_root, eid
            )
            artifact_uri = f"{location.rstrip('/')}/{run_id}/artifacts"
            run_sql.insert_run(
                conn,
                run_id=run_id,
                experiment_id=eid,
                user_id=user_id,
                start_time=start,
                run_name=name,
                artifact_uri=artifact_uri,
                run_tags=run_tags,
            )
            return artifact_uri, run_id

        created = self._keys.create_once(key, request_keys.RUN, insert)
        if isinstance(created, request_keys.Repeat):
            return self._repeated_run(created.entity_id, eid, key)
        info = RunInfo(
            run_id=run_id,
            experiment_id=str(eid),
            user_id=user_id,
            status="RUNNING",
            start_time=start,
            lifecycle_stage="active",
            artifact_uri=created,
            run_name=name,
        )
        return Run(info, RunData(tags=[RunTag(k, v) for k, v in run_tags.items()]))

    def _repeated_run(self, run_id: str, experiment_id: int, key: str | None) -> Run:
        run = self.get_run(run_id)
        if run.info.experiment_id != str(experiment_id):
            raise InvalidParameterValue(
                f"The idempotency key {key!r} was already used to create a run in experiment "
                f"{run.info.experiment_id}; send a new key for a new request."
            )
        return run

    def get_run(self, run_id: str) -> Run:
        """The run with its latest metrics, params, tags and inputs, deleted or not."""
        validate_run_id(run_id)
        with self.db.read() as conn:
            found = run_sql.load_runs(conn, [run_id])
        if not found:
            raise run_sql.run_not_found(run_id)
        return found[0]

    def update_run_info(
        self,
        run_id: str,
        run_status: int | str | None,
        end_time: int | None,
        run_name: str | None,
    ) -> RunInfo:
        """Change status, end time or name of an active run (a name also sets the tag).
        An unknown status is ignored, as MLflow's server does."""
        validate_run_id(run_id)
        if run_name is not None:
            run_name = validate_run_name(run_name)
        with self.db.write() as conn:
            return run_sql.update_run_info(
                conn,
                run_id,
                status=_status_name(run_status),
                end_time=None if end_time is None else int(end_time),
                run_name=run_name or None,
            )

    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run (it is still returned by get_run)."""
        validate_run_id(run_id)
        with self.db.write() as conn:
            run_sql.delete_run(conn, run_id, _now())

    def restore_run(self, run_id: str) -> None:
        """Undo :meth:`delete_run`."""
        validate_run_id(run_id)
        with self.db.write() as conn:
            run_sql.restore_run(conn, run_id)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Log metrics, params and tags to an active run in one transaction: all or nothing."""
        validate_run_id(run_id)
        checked_metrics, checked_params, checked_tags = validate_batch_log_data(
            metrics or (), params or (), tags or ()
        )
        self._write(run_id, checked_metrics, checked_params, checked_tags)

    def log_metric(self, run_id: str, metric: Metric) -> None:
        """Log one metric point."""
        self.log_batch(run_id, metrics=[metric])

    def log_param(self, run_id: str, param: Param) -> None:
        """Log one param (a different value for a logged key is 400)."""
        validate_run_id(run_id)
        self._write(run_id, (), [validate_param(param)], (), single_param=True)

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        """Set one tag (``mlflow.runName`` also renames the run)."""
        self.log_batch(run_id, tags=[tag])

    def _write(
        self,
        run_id: str,
        metrics: Sequence[Metric],
        params: Sequence[Param],
        tags: Sequence[RunTag],
        *,
        single_param: bool = False,
    ) -> None:
        tag_values = {t.key: t.value for t in tags}
        name = tag_values.get(_RUN_NAME_TAG)
        if name is not None:
            validate_run_name(name)
        with self.db.write() as conn:
            if metrics:
                metric_sql.write_metrics(conn, run_id, metrics)  # checks the run is active
                if any(m.model_id for m in metrics):
                    experiment_id = run_sql.require_active_run(conn, run_id)
                    model_sql.write_model_metrics(
                        conn, self.dialect, run_id, experiment_id, metrics
                    )
            else:
                run_sql.require_active_run(conn, run_id)
            if params:
                run_sql.write_params(conn, run_id, params, single=single_param)
            if tag_values:
                run_sql.write_tags(conn, run_id, tag_values)

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag from an active run; 404 if it has none by that key."""
        validate_run_id(run_id)
        with self.db.write() as conn:
            run_sql.delete_tag(conn, run_id, key)

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] | None = None,
        models: Sequence[LoggedModelInput] | None = None,
    ) -> None:
        """Record datasets (deduplicated per experiment by name and digest) and logged models
        a run used, with the inputs' tags."""
        validate_run_id(run_id)
        validate_dataset_inputs(datasets or ())
        with self.db.write() as conn:
            experiment_id = run_sql.require_active_run(conn, run_id)
            dataset_sql.write_inputs(
                conn, self.dialect, run_id, experiment_id, datasets or (), models or ()
            )

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """Record logged models an active run produced (``run.outputs.model_outputs``); a
        model recorded again takes the new step. Unknown or deleted models are 404."""
        validate_run_id(run_id)
        outputs = [
            LoggedModelOutput(model_sql.check_model_id(m.model_id), model_sql.check_step(m.step))
            for m in models or ()
        ]
        with self.db.write() as conn:
            run_sql.require_active_run(conn, run_id)
            if outputs:
                model_sql.write_outputs(conn, self.dialect, run_id, outputs)
