"""The request and response messages of the tracking routes, as field tables.

Each table names the fields MLflow's protocol defines for one call (``required`` marks the
fields the server rejects when absent). :func:`~trackline.server.wire.parse_message` checks
requests against them and :mod:`trackline.server.openapi` turns them into JSON schemas.
"""

from __future__ import annotations

from trackline.server.wire import Field, Message

__all__ = [
    "CREATE_EXPERIMENT",
    "CREATE_RUN",
    "DELETE_EXPERIMENT_TAG",
    "DELETE_RUN_TAG",
    "EMPTY",
    "EXPERIMENT",
    "EXPERIMENT_ID",
    "GET_EXPERIMENT_BY_NAME",
    "GET_METRIC_HISTORY",
    "LOG_BATCH",
    "LOG_INPUTS",
    "LOG_METRIC",
    "LOG_PARAM",
    "METRIC",
    "RUN",
    "RUN_ID",
    "RUN_INFO",
    "RUN_STATUSES",
    "SEARCH_EXPERIMENTS",
    "SEARCH_RUNS",
    "SET_EXPERIMENT_TAG",
    "SET_RUN_TAG",
    "UPDATE_EXPERIMENT",
    "UPDATE_RUN",
    "VIEW_TYPES",
]

RUN_STATUSES = {"RUNNING": 1, "SCHEDULED": 2, "FINISHED": 3, "FAILED": 4, "KILLED": 5}
VIEW_TYPES = {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3}


def _s(name: str, doc: str = "", *, required: bool = False, repeated: bool = False) -> Field:
    return Field(name, "string", required=required, repeated=repeated, doc=doc)


def _i(name: str, doc: str = "", *, required: bool = False) -> Field:
    return Field(name, "int64", required=required, doc=doc)


def _run_id(doc: str = "ID of the run.") -> Field:
    return Field("run_id", "string", required=True, aliases=("run_uuid",), doc=doc)


EMPTY = Message("Empty", doc="No fields; the response of a successful write is `{}`.")

# -- shared shapes -----------------------------------------------------------------------

TAG = Message("Tag", (_s("key", required=True), _s("value")), doc="A key/value tag.")
PARAM = Message("Param", (_s("key", required=True), _s("value")), doc="A run parameter.")
METRIC = Message(
    "Metric",
    (
        _s("key", required=True),
        Field("value", "double", required=True, doc='A number, "NaN", "Infinity" or "-Infinity".'),
        _i("timestamp", "Epoch milliseconds.", required=True),
        _i("step", "Defaults to 0."),
        _s("dataset_name"),
        _s("dataset_digest"),
        _s("model_id"),
        _s("run_id"),
    ),
    doc="One point of a metric's history.",
)
DATASET = Message(
    "Dataset",
    (
        _s("name", required=True),
        _s("digest", required=True),
        _s("source_type", required=True),
        _s("source", "JSON text.", required=True),
        _s("schema", "JSON text."),
        _s("profile", "JSON text."),
    ),
)
DATASET_INPUT = Message(
    "DatasetInput",
    (
        Field("tags", "message", repeated=True, message=TAG),
        Field("dataset", "message", required=True, message=DATASET),
    ),
)
MODEL_INPUT = Message("ModelInput", (_s("model_id", required=True),))
MODEL_OUTPUT = Message("ModelOutput", (_s("model_id"), _i("step")))

EXPERIMENT = Message(
    "Experiment",
    (
        _s("experiment_id"),
        _s("name"),
        _s("artifact_location"),
        _s("lifecycle_stage", '"active" or "deleted".'),
        _i("last_update_time"),
        _i("creation_time"),
        Field("tags", "message", repeated=True, message=TAG),
    ),
)
RUN_INFO = Message(
    "RunInfo",
    (
        _s("run_id"),
        _s("run_uuid", "Deprecated alias of run_id."),
        _s("run_name"),
        _s("experiment_id"),
        _s("user_id"),
        Field("status", "enum", enum=RUN_STATUSES),
        _i("start_time"),
        _i("end_time"),
        _s("artifact_uri"),
        _s("lifecycle_stage"),
    ),
)
RUN = Message(
    "Run",
    (
        Field("info", "message", message=RUN_INFO),
        Field(
            "data",
            "message",
            message=Message(
                "RunData",
                (
                    Field("metrics", "message", repeated=True, message=METRIC),
                    Field("params", "message", repeated=True, message=PARAM),
                    Field("tags", "message", repeated=True, message=TAG),
                ),
            ),
        ),
        Field(
            "inputs",
            "message",
            message=Message(
                "RunInputs",
                (
                    Field("dataset_inputs", "message", repeated=True, message=DATASET_INPUT),
                    Field("model_inputs", "message", repeated=True, message=MODEL_INPUT),
                ),
            ),
        ),
        Field(
            "outputs",
            "message",
            message=Message(
                "RunOutputs",
                (Field("model_outputs", "message", repeated=True, message=MODEL_OUTPUT),),
            ),
        ),
    ),
)

# -- experiments -------------------------------------------------------------------------

GET_EXPERIMENT_BY_NAME = Message("GetExperimentByName", (_s("experiment_name", required=True),))
EXPERIMENT_ID = Message("ExperimentId", (_s("experiment_id", required=True),))
CREATE_EXPERIMENT = Message(
    "CreateExperiment",
    (
        _s("name", required=True),
        _s("artifact_location", "Must lie inside the server's default artifact root."),
        Field("tags", "message", repeated=True, message=TAG),
    ),
)
SEARCH_EXPERIMENTS = Message(
    "SearchExperiments",
    (
        _i("max_results", "Page size, 1 to 50000; required."),
        _s("page_token"),
        _s("filter"),
        _s("order_by", repeated=True),
        Field("view_type", "enum", enum=VIEW_TYPES, doc="Defaults to ACTIVE_ONLY."),
    ),
)
UPDATE_EXPERIMENT = Message(
    "UpdateExperiment",
    (_s("experiment_id", required=True), _s("new_name", required=True)),
)
SET_EXPERIMENT_TAG = Message(
    "SetExperimentTag",
    (_s("experiment_id", required=True), _s("key", required=True), _s("value")),
)
DELETE_EXPERIMENT_TAG = Message(
    "DeleteExperimentTag",
    (_s("experiment_id", required=True), _s("key", required=True)),
)

# -- runs --------------------------------------------------------------------------------

CREATE_RUN = Message(
    "CreateRun",
    (
        _s("experiment_id", "Required (a missing one is BAD_REQUEST)."),
        _s("user_id"),
        _s("run_name"),
        _i("start_time"),
        Field("tags", "message", repeated=True, message=TAG),
    ),
)
RUN_ID = Message("RunId", (_run_id(),))
UPDATE_RUN = Message(
    "UpdateRun",
    (
        _run_id(),
        Field("status", "enum", enum=RUN_STATUSES, doc="An unknown status is ignored."),
        _i("end_time"),
        _s("run_name"),
    ),
)
LOG_PARAM = Message("LogParam", (_run_id(), _s("key", required=True), _s("value")))
LOG_METRIC = Message(
    "LogMetric",
    (
        _run_id(),
        *(f for f in METRIC.fields if f.name != "run_id"),
    ),
)
SET_RUN_TAG = Message("SetTag", (_run_id(), _s("key", required=True), _s("value")))
DELETE_RUN_TAG = Message("DeleteTag", (_run_id(), _s("key", required=True)))
LOG_BATCH = Message(
    "LogBatch",
    (
        _run_id(),
        Field("metrics", "message", repeated=True, message=METRIC),
        Field("params", "message", repeated=True, message=PARAM),
        Field("tags", "message", repeated=True, message=TAG),
    ),
    doc="At most 1000 metrics, 100 params, 100 tags; the body at most 1,000,000 bytes.",
)
LOG_INPUTS = Message(
    "LogInputs",
    (
        _run_id(),
        Field("datasets", "message", repeated=True, message=DATASET_INPUT),
        Field("models", "message", repeated=True, message=MODEL_INPUT),
    ),
)
SEARCH_RUNS = Message(
    "SearchRuns",
    (
        _s("experiment_ids", repeated=True),
        _s("filter"),
        Field("run_view_type", "enum", enum=VIEW_TYPES, doc="Defaults to ACTIVE_ONLY."),
        _i("max_results", "Page size, 1 to 50000; defaults to 1000."),
        _s("order_by", repeated=True),
        _s("page_token"),
    ),
)

# -- metrics -----------------------------------------------------------------------------

GET_METRIC_HISTORY = Message(
    "GetMetricHistory",
    (
        _run_id(),
        _s("metric_key", required=True),
        _i("max_results", "Page size (at least 1); all points when absent."),
        _s("page_token"),
    ),
)
