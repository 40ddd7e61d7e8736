"""``trackline.pyfunc.spark_udf`` on a real local Spark (one session for the module): the
notes' "Predict on a Spark DataFrame" snippet run verbatim with ``import trackline as mlflow``
on an XGBoost model logged as in the notes, the other ways of passing columns, result types,
and the errors.

Spark needs pyspark and Java; where either is missing the Spark tests skip with the reason,
unless ``TRACKLINE_REQUIRE_SERVICES=1`` (CI), which makes that a failure. The workers run this
interpreter (``PYSPARK_PYTHON``), so they import the trackline under test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.conftest import unreachable

import trackline
from trackline.exceptions import (
    INVALID_PARAMETER_VALUE,
    NOT_IMPLEMENTED,
    RESOURCE_DOES_NOT_EXIST,
    MlflowException,
)

# pyspark 4.x and pandas 3: pyspark warns it does not fully support pandas 3 and passes it a
# deprecated copy= argument; third-party warnings, not ours to fix
pytestmark = [
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning:xgboost.*"),
]

ROWS = 40


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A local Spark session (one core, no UI, loopback only) for the whole module."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        unreachable("Spark", f"pyspark is not installed ({exc}); pip install -e '.[dev]'")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        unreachable("Spark", "no Java runtime (java is not on PATH and JAVA_HOME is unset)")
    folder = tmp_path_factory.mktemp("spark")
    environment = {"PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    try:
        session = (
            SparkSession.builder.master("local[1]")
            .appName("trackline-spark-udf-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "1")
            .config("spark.driver.memory", "512m")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.local.dir", str(folder / "local"))
            .config("spark.sql.warehouse.dir", str(folder / "warehouse"))
            .getOrCreate()
        )
    except Exception as exc:
        unreachable("Spark", f"the local session did not start: {exc}")
    try:
        yield session
    finally:
        session.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _trips(rows: int, seed: int) -> pd.DataFrame:
    """Taxi-like features, all numeric (what the notes' model sees after preprocessing)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "trip_distance": rng.uniform(0.5, 15.0, rows),
            "PULocationID": rng.integers(1, 20, rows),
            "DOLocationID": rng.integers(1, 20, rows),
        }
    )


def _duration(frame: pd.DataFrame) -> Any:
    noise = np.random.default_rng(7).normal(0, 1.0, len(frame))
    return 3.0 * frame["trip_distance"].to_numpy() + 0.1 * frame["PULocationID"] + noise


def _log_xgboost() -> str:
    """A booster trained and logged as in the notes; its runs:/ URI."""
    import xgboost as xgb

    train = _trips(200, 1)
    booster = xgb.train(
        params={"max_depth": 3, "learning_rate": 0.3, "objective": "reg:squarederror"},
        dtrain=xgb.DMatrix(train, label=_duration(train)),
        num_boost_round=10,
    )
    with trackline.start_run() as run:
        trackline.xgboost.log_model(booster, artifact_path="models_mlflow")
    return f"runs:/{run.info.run_id}/models_mlflow"


def _log_sklearn(classifier: bool = False) -> str:
    """A scikit-learn model with a signature (from an input example); its runs:/ URI."""
    from sklearn.linear_model import LinearRegression, LogisticRegression

    train = _trips(200, 1)
    target = _duration(train)
    if classifier:
        model: Any = LogisticRegression(max_iter=500).fit(train, (target > 20).astype(int))
    else:
        model = LinearRegression().fit(train, target)
    with trackline.start_run():
        info = trackline.sklearn.log_model(model, name="model", input_example=train.head(3))
    return info.model_uri


def _predictions(frame: pd.DataFrame, column: str = "predictions") -> Any:
    return frame[column].to_numpy()


def _load(uri: str) -> Any:
    """``pyfunc.load_model(uri)``, downloading into the test's folder (not a new temporary
    folder that would outlive the test)."""
    return trackline.pyfunc.load_model(uri, dst_path=str(Path.cwd()))


@pytest.mark.usefixtures("sqlite_tracking")
def test_the_notes_snippet_predicts_like_load_model(spark: Any) -> None:
    uri = _log_xgboost()
    pdf = _trips(ROWS, 2)
    df = spark.createDataFrame(pdf)

    # the notes' lines, in the notes' order, `import mlflow` made `import trackline as mlflow`
    import trackline as mlflow  # noqa: I001
    from pyspark.sql.functions import struct, col

    logged_model = uri
    # Load model as a Spark UDF. Override result_type if the model does not return double values.
    loaded_model = mlflow.pyfunc.spark_udf(spark, model_uri=logged_model, result_type="double")
    # Predict on a Spark DataFrame.
    result = df.withColumn("predictions", loaded_model(struct(*map(col, df.columns))))

    assert dict(result.dtypes)["predictions"] == "double"
    got = result.toPandas()
    expected = _load(uri).predict(pdf)
    assert len(got) == ROWS
    pd.testing.assert_frame_equal(got[pdf.columns.tolist()], pdf, check_dtype=False)
    np.testing.assert_allclose(_predictions(got), expected, rtol=1e-6)


def test_the_ui_snippet_runs(spark: Any, sqlite_tracking: str) -> None:
    from trackline.models.location import download_model
    from trackline.ui.mlmodel import describe_model, snippets

    uri = _log_xgboost()
    text = (download_model(uri, str(Path.cwd())) / "MLmodel").read_text()
    code = next(
        s["code"]
        for s in snippets(describe_model(text, None), uri, sqlite_tracking)
        if "Spark" in s["title"]
    )
    pdf = _trips(ROWS, 6)
    namespace: dict[str, Any] = {"spark": spark, "df": spark.createDataFrame(pdf)}
    exec(code, namespace)  # the snippet as the UI shows it, this store's URI and all

    df = namespace["df"]
    got = df.withColumn("p", namespace["loaded_model"](namespace["struct"](*df.columns)))
    expected = _load(uri).predict(pdf)
    np.testing.assert_allclose(_predictions(got.toPandas(), "p"), expected, rtol=1e-6)


class _LoadCountingModel(trackline.pyfunc.PythonModel):
    """Notes each load (process id) in the file named by an environment variable, and adds
    an offset read from the environment: both come from spark_udf's extra_env."""

    def load_context(self, context: Any) -> None:
        log = os.environ.get("LOAD_LOG")
        if log:
            with open(log, "a") as out:
                out.write(f"{os.getpid()}\n")

    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        return model_input["x"] * 2.0 + float(os.environ["OFFSET"])


@pytest.mark.usefixtures("sqlite_tracking")
def test_each_worker_loads_the_model_once_with_extra_env(spark: Any, tmp_path: Path) -> None:
    import cloudpickle
    from pyspark.sql.functions import col, struct

    module = sys.modules[__name__]
    cloudpickle.register_pickle_by_value(module)  # the workers cannot import this test file
    try:
        with trackline.start_run():
            info = trackline.pyfunc.log_model(name="counting", python_model=_LoadCountingModel())
    finally:
        cloudpickle.unregister_pickle_by_value(module)
    log = tmp_path / "loads.txt"
    udf = trackline.pyfunc.spark_udf(
        spark, info.model_uri, extra_env={"LOAD_LOG": str(log), "OFFSET": "0.5"}
    )
    df = spark.createDataFrame(pd.DataFrame({"x": np.arange(ROWS, dtype=float)})).repartition(4)

    got = df.select(col("x"), udf(struct("x")).alias("y")).toPandas()  # four tasks

    assert got["y"].tolist() == [x * 2.0 + 0.5 for x in got["x"]]
    loads = log.read_text().split()
    assert loads
    assert len(loads) == len(set(loads))  # never twice in one process


@pytest.mark.usefixtures("sqlite_tracking")
def test_struct_several_columns_and_no_columns_agree(spark: Any) -> None:
    from pyspark.sql.functions import col, expr, struct

    uri = _log_sklearn()
    pdf = _trips(ROWS, 3)
    df = spark.createDataFrame(pdf)
    udf = trackline.pyfunc.spark_udf(spark, uri)  # no result_type: the signature's (double)

    assert udf.returnType.simpleString() == "double"
    spark.udf.register("predict_duration", udf)  # and as a SQL function
    got = df.select(
        udf(struct(*map(col, df.columns))).alias("struct"),
        # several columns take the signature's input names, in order
        udf(col("trip_distance"), col("PULocationID"), col("DOLocationID")).alias("columns"),
        udf().alias("none"),  # no columns: the signature's, by name
        expr("predict_duration(struct(trip_distance, PULocationID, DOLocationID))").alias("sql"),
    ).toPandas()

    expected = _load(uri).predict(pdf)
    for name in ("struct", "columns", "none", "sql"):
        np.testing.assert_allclose(got[name].to_numpy(), expected, rtol=1e-9, err_msg=name)


@pytest.mark.usefixtures("sqlite_tracking")
def test_result_types_convert_the_predictions(spark: Any) -> None:
    from pyspark.sql.functions import col, struct

    uri = _log_sklearn(classifier=True)
    pdf = _trips(ROWS, 4)
    df = spark.createDataFrame(pdf)
    as_long = trackline.pyfunc.spark_udf(spark, uri, result_type="long")
    as_string = trackline.pyfunc.spark_udf(spark, uri, result_type="string")
    as_array = trackline.pyfunc.spark_udf(spark, uri, result_type="array<double>")
    row = struct(*map(col, df.columns))
    result = df.select(
        as_long(row).alias("long"), as_string(row).alias("string"), as_array(row).alias("array")
    )

    assert dict(result.dtypes) == {"long": "bigint", "string": "string", "array": "array<double>"}
    got = result.toPandas()
    labels = _load(uri).predict(pdf)
    assert set(labels) == {0, 1}  # both classes occur, so the conversions are exercised
    assert got["long"].tolist() == [int(v) for v in labels]
    assert got["string"].tolist() == [str(v) for v in labels]
    assert [list(v) for v in got["array"]] == [[float(v)] for v in labels]


@pytest.mark.usefixtures("sqlite_tracking")
def test_predictions_that_do_not_fit_the_result_type_fail_clearly(spark: Any) -> None:
    from pyspark.sql.functions import col, struct

    uri = _log_xgboost()  # float predictions
    df = spark.createDataFrame(_trips(5, 5))
    as_long = trackline.pyfunc.spark_udf(spark, uri, result_type="long")
    with pytest.raises(Exception, match="no column that converts to bigint") as caught:
        df.select(as_long(struct(*map(col, df.columns)))).collect()
    assert "result_type='string'" in str(caught.value)


@pytest.mark.usefixtures("sqlite_tracking")
@pytest.mark.parametrize("result_type", ["map<string,double>", "date", "array<array<int>>", 3])
def test_an_unsupported_result_type_is_refused(spark: Any, result_type: Any) -> None:
    uri = _log_sklearn()
    with pytest.raises(MlflowException) as caught:
        trackline.pyfunc.spark_udf(spark, uri, result_type=result_type)
    assert caught.value.error_code == INVALID_PARAMETER_VALUE
    assert "result_type" in caught.value.message


@pytest.mark.usefixtures("sqlite_tracking")
def test_a_spark_type_is_a_result_type(spark: Any) -> None:
    from pyspark.sql.types import ArrayType, FloatType

    udf = trackline.pyfunc.spark_udf(spark, _log_sklearn(), result_type=ArrayType(FloatType()))
    assert udf.returnType == ArrayType(FloatType())


@pytest.mark.usefixtures("sqlite_tracking")
def test_too_many_columns_are_refused(spark: Any) -> None:
    udf = trackline.pyfunc.spark_udf(spark, _log_sklearn())
    with pytest.raises(MlflowException, match=r"given 4 columns"):
        udf("trip_distance", "PULocationID", "DOLocationID", "trip_distance")


@pytest.mark.usefixtures("sqlite_tracking")
def test_an_unknown_model_uri_fails_on_the_driver(spark: Any, tmp_path: Path) -> None:
    with trackline.start_run() as run:
        pass
    for uri in (
        f"runs:/{run.info.run_id}/models_mlflow",
        "runs:/0123456789abcdef0123456789abcdef/models_mlflow",
        str(tmp_path / "no-such-model"),
    ):
        with pytest.raises(MlflowException) as caught:
            trackline.pyfunc.spark_udf(spark, model_uri=uri, result_type="double")
        assert caught.value.error_code == RESOURCE_DOES_NOT_EXIST, uri


@pytest.mark.parametrize("env_manager", ["conda", "virtualenv", "uv"])
def test_environment_managers_other_than_local_are_not_implemented(env_manager: str) -> None:
    with pytest.raises(MlflowException) as caught:
        trackline.pyfunc.spark_udf(None, "runs:/abc/model", env_manager=env_manager)
    assert caught.value.error_code == NOT_IMPLEMENTED
    assert f"spark_udf(env_manager={env_manager!r}) is not supported" in caught.value.message


def test_an_unknown_environment_manager_is_invalid() -> None:
    with pytest.raises(MlflowException) as caught:
        trackline.pyfunc.spark_udf(None, "runs:/abc/model", env_manager="docker")
    assert caught.value.error_code == INVALID_PARAMETER_VALUE


def _run_python(code: str) -> Any:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(result.stdout)


def test_importing_trackline_does_not_import_pyspark() -> None:
    code = (
        "import sys, json, trackline, trackline.pyfunc; trackline.pyfunc.spark_udf; "
        "print(json.dumps([m for m in ('pyspark', 'pyarrow', 'py4j') if m in sys.modules]))"
    )
    assert _run_python(code) == []


def test_without_pyspark_the_error_says_what_to_install() -> None:
    code = (
        "import sys, json; sys.modules['pyspark'] = None\n"
        "import trackline.pyfunc\n"
        "try:\n"
        "    trackline.pyfunc.spark_udf(None, 'runs:/abc/model')\n"
        "except ImportError as exc:\n"
        "    print(json.dumps([type(exc).__name__, str(exc)]))\n"
    )
    name, message = _run_python(code)
    assert name == "MissingDependency"
    assert "pip install 'trackline[spark]'" in message
    assert "\n" not in message


# -- result types without Spark: what each type takes from the model's output ---------------


@pytest.mark.parametrize(
    ("ddl", "output", "expected"),
    [
        ("int", np.array([1, 2, -3], dtype=np.int64), [1, 2, -3]),
        ("long", pd.DataFrame({"a": ["x", "y", "z"], "b": [4, 5, 6]}), [4, 5, 6]),
        ("double", np.array([[1.5, 9.0], [2.5, 9.0], [3.5, 9.0]]), [1.5, 2.5, 3.5]),
        ("float", [1, 2, 3], [1.0, 2.0, 3.0]),
        (
            "boolean",
            pd.DataFrame({"p": [0.1, 0.2, 0.3], "ok": [True, False, True]}),
            [True, False, True],
        ),
        ("string", pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}), ["1", "2", "3"]),
        ("array<long>", np.array([[1, 2], [3, 4], [5, 6]]), [[1, 2], [3, 4], [5, 6]]),
        ("array<double>", pd.Series([[1, 2], [3], []]), [[1.0, 2.0], [3.0], []]),
        (
            "array<string>",
            {"a": [1, 2, 3], "b": [0.5, 1.5, 2.5]},
            [["1", "0.5"], ["2", "1.5"], ["3", "2.5"]],
        ),
    ],
)
def test_result_types_take_the_fitting_columns(ddl: str, output: Any, expected: Any) -> None:
    from trackline.pyfunc.result_type import parse_result_type

    column = parse_result_type(ddl).convert(output, 3)
    assert [list(v) if isinstance(v, list) else v for v in column] == expected


@pytest.mark.parametrize(
    ("ddl", "output", "message"),
    [
        ("int", np.array([1, 2, 2**40]), "no column that converts to int"),
        ("boolean", np.array([0.5, 1.5, 2.5]), "no column that converts to boolean"),
        ("long", np.array(["a", "b", "c"]), "no column that converts to bigint"),
        ("double", np.array([1.0, 2.0]), "2 predictions for 3 input rows"),
    ],
)
def test_outputs_that_do_not_fit_are_errors(ddl: str, output: Any, message: str) -> None:
    from trackline.pyfunc.result_type import parse_result_type

    with pytest.raises(MlflowException, match=message) as caught:
        parse_result_type(ddl).convert(output, 3)
    assert caught.value.error_code == INVALID_PARAMETER_VALUE
