"""``spark_udf``: a pyfunc model as a Spark pandas UDF, predicting on Spark DataFrames.

On the driver the model URI (any form :func:`~trackline.pyfunc.load_model` takes) is
resolved and downloaded once, checked (it must have a ``python_function`` flavor with a
loader trackline has), and packed into a zip archive that is handed to Spark with
``SparkContext.addFile``. Spark copies the archive to every executor (in local mode too), so
this works the same on a laptop and on a cluster, where a driver-local folder would not be
visible; ``addFile`` is also the one way of shipping files that does not require a shared or
Hadoop file system (Spark refuses to ``addFile`` a local directory outside local mode, hence
the zip). The archive lives in a temporary folder removed when the driver's Python exits.

On the executors, each Python worker unpacks the archive next to Spark's copy of it (inside
Spark's own per-application folder, which Spark removes) and loads the model once, cached
for the life of the worker process, which Spark reuses across tasks. The UDF is an iterator
pandas UDF (Arrow batches); a batch's columns become the model's input DataFrame:

* one struct column (``udf(struct(*map(col, df.columns)))``): the struct's fields, by name;
* several columns: named after the signature's inputs in order, or ``"0"``, ``"1"``, ... for a
  model without a signature;
* no arguments: the signature's input columns, by name (the model must have a signature).

The predictions are converted to ``result_type`` (see :mod:`trackline.pyfunc.result_type`).
Environments are not rebuilt: the executors' own Python runs the model (MLflow's
``env_manager="local"``); other environment managers are refused rather than ignored.
pyspark is imported only when ``spark_udf`` is called.
"""

from __future__ import annotations

import os
import tempfile
import threading
import typing
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trackline.exceptions import (
    NOT_IMPLEMENTED,
    InvalidParameterValue,
    MissingDependency,
    MlflowException,
    ResourceDoesNotExist,
)
from trackline.pyfunc.result_type import (
    ResultType,
    parse_result_type,
    result_type_of_signature,
)

if TYPE_CHECKING:
    from trackline.models.model import Model
    from trackline.pyfunc.loader import PyFuncModel

__all__ = ["SparkModelUDF", "spark_udf"]

#: The environment managers of MLflow's spark_udf; trackline runs only "local".
ENV_MANAGERS = ("local", "virtualenv", "uv", "conda")

_FEATURE = "trackline.pyfunc.spark_udf"


def spark_udf(
    spark: Any,
    model_uri: str,
    result_type: Any = None,
    env_manager: str | None = None,
    params: dict[str, Any] | None = None,
    extra_env: Mapping[str, str] | None = None,
    prebuilt_env_uri: str | None = None,
    model_config: str | os.PathLike[str] | dict[str, Any] | None = None,
) -> SparkModelUDF:
    """A Spark UDF that predicts with the pyfunc model at ``model_uri``.

    Call it on columns: one struct column (its fields are the model's input columns), several
    columns (named by the model's signature, else by position), or none (the signature's input
    columns of the DataFrame it is applied to)::

        predict = trackline.pyfunc.spark_udf(spark, "runs:/<run_id>/model", "double")
        df.withColumn("prediction", predict(struct(*map(col, df.columns))))

    ``result_type`` is a pyspark ``DataType`` or DDL string: ``int``, ``long``, ``float``,
    ``double``, ``string``, ``boolean`` or an ``array<...>`` of one. Left out, it is the type
    of the signature's single output column when there is one, else ``double``.
    ``params`` are passed to every ``predict`` call (checked against the model's params schema
    here); ``extra_env`` is set in the executors' environment while the model loads and
    predicts; ``model_config`` (a dict, or the path of a YAML/JSON file) is given to the
    model's loader. ``env_manager`` may only be None or ``"local"``: the model runs in the
    executors' own Python environment, which must have the model's requirements.
    """
    _check_environment(env_manager, prebuilt_env_uri)
    _require_pyspark()
    from pyspark.sql.pandas.functions import pandas_udf

    from trackline.models.enforcement import enforce_params

    context = _spark_context(spark)
    config = _model_config(model_config)
    env = _extra_env(extra_env)
    given = parse_result_type(result_type) if result_type is not None else None
    with tempfile.TemporaryDirectory(prefix="trackline-spark-udf-") as scratch:
        folder, meta = _fetch(model_uri, scratch)
        kind = given or result_type_of_signature(meta.get_output_schema()) or ResultType("double")
        enforce_params(params, meta.get_params_schema())
        archive = _ship(context, folder)
    schema = meta.get_input_schema()
    names = list(schema.input_names()) if schema is not None and len(schema) else None
    job = _Job(archive, kind, names, dict(params) if params else None, config, env)
    udf = pandas_udf(_batch_function(job), kind.to_spark())
    return SparkModelUDF(udf, meta, kind)


class SparkModelUDF:
    """What :func:`spark_udf` returns: call it on columns to get a prediction column, or
    register it with ``spark.udf.register`` for SQL (where columns must be given)."""

    def __init__(self, udf: Any, metadata: Model, result_type: ResultType) -> None:
        self._udf = udf
        self.metadata = metadata
        self.result_type = result_type

    def __getattr__(self, name: str) -> Any:
        # pyspark's UDF attributes (returnType, evalType, func, ...), so that
        # spark.udf.register("predict", udf) makes the model a SQL function too
        if name.startswith("__") or name == "_udf":
            raise AttributeError(name)
        return getattr(self._udf, name)

    def __call__(self, *columns: Any) -> Any:
        if not columns:
            return self._udf(*self._signature_columns())
        schema = self.metadata.get_input_schema()
        if len(columns) > 1 and schema is not None and len(schema):
            names, required = schema.input_names(), schema.required_input_names()
            if not len(required) <= len(columns) <= len(names):
                raise InvalidParameterValue(
                    f"The model takes the columns {names} ({len(required)} required) in this "
                    f"order, but the UDF was given {len(columns)} columns"
                )
        return self._udf(*columns)

    def _signature_columns(self) -> list[str]:
        schema = self.metadata.get_input_schema()
        if schema is None or not len(schema):
            raise InvalidParameterValue(
                "The UDF was called without columns and the model has no signature to name "
                "them: pass the input columns, e.g. udf(struct(*map(col, df.columns)))"
            )
        if not schema.has_input_names():
            raise InvalidParameterValue(
                "The UDF was called without columns and the model's signature does not name "
                f"its {len(schema)} inputs: pass the input columns in order"
            )
        if schema.optional_input_names():
            raise InvalidParameterValue(
                "The UDF was called without columns but the model's signature has optional "
                f"inputs {schema.optional_input_names()}: pass the columns to use"
            )
        return [str(name) for name in schema.input_names()]

    def __repr__(self) -> str:
        return f"<SparkModelUDF returning {self.result_type.ddl}>"


# -- the driver's side ------------------------------------------------------------------------


def _check_environment(env_manager: str | None, prebuilt_env_uri: str | None) -> None:
    if prebuilt_env_uri is not None:
        raise MlflowException(
            "spark_udf(prebuilt_env_uri=...) is not supported: trackline does not build or "
            "unpack model environments; the model runs in the executors' own Python",
            error_code=NOT_IMPLEMENTED,
        )
    if env_manager is None or env_manager == "local":
        return
    if env_manager in ENV_MANAGERS:
        raise MlflowException(
            f"spark_udf(env_manager={env_manager!r}) is not supported: trackline does not "
            "build Python environments for models. Use env_manager='local' (or leave it out) "
            "and install the model's requirements on the executors "
            "(trackline.pyfunc.get_model_dependencies gives its requirements.txt)",
            error_code=NOT_IMPLEMENTED,
        )
    raise InvalidParameterValue(
        f"Unknown env_manager {env_manager!r}: MLflow's are {', '.join(ENV_MANAGERS)}, and "
        "trackline runs only 'local'"
    )


def _require_pyspark() -> None:
    for module in ("pyspark", "pyarrow"):
        try:
            __import__(module)
        except ImportError:
            raise MissingDependency(module, "spark", _FEATURE) from None


def _spark_context(spark: Any) -> Any:
    from pyspark.sql import SparkSession

    session = spark if spark is not None else SparkSession.getActiveSession()
    if session is None:
        raise InvalidParameterValue("spark_udf needs a SparkSession: none was given or active")
    try:
        return session.sparkContext
    except Exception as exc:  # Spark Connect sessions have no SparkContext
        raise MlflowException(
            "spark_udf needs a classic SparkSession with a SparkContext to ship the model to "
            f"the executors; this session has none (Spark Connect is not supported): {exc}",
            error_code=NOT_IMPLEMENTED,
        ) from None


def _model_config(value: str | os.PathLike[str] | dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    import yaml

    path = Path(value)
    if not path.is_file():
        raise InvalidParameterValue(f"model_config {str(value)!r} is not a dict or a file")
    loaded = yaml.safe_load(path.read_text())
    if not isinstance(loaded, dict):
        raise InvalidParameterValue(f"model_config file {str(value)!r} does not hold a mapping")
    return loaded


def _extra_env(value: Mapping[str, str] | None) -> dict[str, str] | None:
    if not value:
        return None
    bad = [k for k, v in value.items() if not isinstance(k, str) or not isinstance(v, str)]
    if bad:
        raise InvalidParameterValue(f"extra_env maps names to strings; not so for {bad}")
    return dict(value)


def _fetch(model_uri: str, scratch: str) -> tuple[Path, Model]:
    """The local folder of the model (downloaded into ``scratch`` unless it is local) and its
    MLmodel, checked to be loadable as a Python function by trackline."""
    from trackline.models.location import download_model, local_model_path
    from trackline.models.model import MLMODEL_FILE_NAME, Model
    from trackline.pyfunc.loader import FLAVOR_NAME, MAIN, loader_module

    is_local = local_model_path(model_uri) is not None
    folder = download_model(model_uri, None if is_local else scratch)
    if not folder.is_dir():
        raise ResourceDoesNotExist(f"No model folder at {model_uri!r}")
    meta = Model.load(folder / MLMODEL_FILE_NAME)
    conf = meta.flavors.get(FLAVOR_NAME)
    if not isinstance(conf, dict):
        raise ResourceDoesNotExist(
            f'The model at {model_uri!r} has no "{FLAVOR_NAME}" flavor (it has '
            f"{sorted(meta.flavors)}), so it cannot be used as a Spark UDF"
        )
    loader_module(conf.get(MAIN, ""))  # an unknown flavor fails here, not on the executors
    return folder, meta


_archives: list[Path] = []


def _remove_archives() -> None:
    import shutil

    for folder in _archives:
        shutil.rmtree(folder, ignore_errors=True)


def _ship(context: Any, folder: Path) -> str:
    """Zip the model folder and add the archive to the Spark context; its file name, which
    executors pass to ``SparkFiles.get`` (unique, as Spark refuses a name added twice)."""
    import atexit
    import uuid
    import zipfile

    if not _archives:
        atexit.register(_remove_archives)
    holder = Path(tempfile.mkdtemp(prefix="trackline-spark-model-"))
    _archives.append(holder)
    name = f"trackline-model-{uuid.uuid4().hex}.zip"
    with zipfile.ZipFile(holder / name, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    context.addFile(str(holder / name))
    return name


# -- the executors' side ----------------------------------------------------------------------


class _Job:
    """Everything the executors need, pickled into the UDF (no model bytes: those travel as
    the archive Spark distributes)."""

    def __init__(
        self,
        archive: str,
        result_type: ResultType,
        names: list[str | int] | None,
        params: dict[str, Any] | None,
        model_config: dict[str, Any] | None,
        extra_env: dict[str, str] | None,
    ) -> None:
        self.archive = archive
        self.result_type = result_type
        self.names = names
        self.params = params
        self.model_config = model_config
        self.extra_env = extra_env


_models: dict[str, PyFuncModel] = {}
_models_lock = threading.Lock()


def _executor_model(archive: str, model_config: dict[str, Any] | None) -> PyFuncModel:
    """The model of ``archive``, unpacked and loaded on the first call in this process."""
    with _models_lock:
        model = _models.get(archive)
        if model is None:
            import zipfile

            from pyspark import SparkFiles

            from trackline.pyfunc.loader import load_model

            source = Path(SparkFiles.get(archive))
            target = tempfile.mkdtemp(prefix="trackline-model-", dir=source.parent)
            with zipfile.ZipFile(source) as packed:
                packed.extractall(target)
            model = load_model(target, model_config=model_config)
            _models[archive] = model
    return model


@contextmanager
def _environment(extra: dict[str, str] | None) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in extra or {}}
    os.environ.update(extra or {})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _model_input(columns: tuple[Any, ...], names: list[str | int] | None) -> Any:
    """The model's input DataFrame from one batch of the UDF's argument columns."""
    import pandas as pd

    if len(columns) == 1 and isinstance(columns[0], pd.DataFrame):
        return columns[0]  # one struct column: its fields are the input columns
    labels: list[str | int] = list(names[: len(columns)]) if names else []
    labels += [str(i) for i in range(len(labels), len(columns))]
    data = {}
    for label, column in zip(labels, columns, strict=True):
        if isinstance(column, pd.DataFrame):  # a struct among several columns: dict values
            column = pd.Series(column.to_dict(orient="records"), index=column.index)
        data[label] = column
    return pd.DataFrame(data)


def _batch_function(job: _Job) -> Any:
    """The iterator pandas UDF that predicts batch by batch with the job's model."""
    import pandas as pd

    def predict_batches(batches: Iterator[Any]) -> Iterator[Any]:
        with _environment(job.extra_env):
            model = _executor_model(job.archive, job.model_config)
            for batch in batches:
                columns = (batch,) if isinstance(batch, (pd.Series, pd.DataFrame)) else batch
                data = _model_input(tuple(columns), job.names)
                output = model.predict(data, params=job.params)
                yield job.result_type.convert(output, len(data))

    # pyspark tells a pandas UDF's kind from its type hints, read as objects: an iterator of
    # tuples of Series or DataFrames (struct columns) in, an iterator of Series out. typing's
    # generic aliases, since pyspark 3.5 does not recognise `X | Y` there.
    frame_or_series = typing.Union[pd.Series, pd.DataFrame]  # noqa: UP007
    predict_batches.__annotations__ = {
        "batches": typing.Iterator[typing.Tuple[frame_or_series, ...]],  # noqa: UP006
        "return": typing.Iterator[pd.Series],
    }
    return predict_batches
