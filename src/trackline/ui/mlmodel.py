"""MLmodel directories as the artifact browser shows them: flavors, signature, size and the
code that loads the model and predicts (pyfunc, its own flavor, and a Spark UDF).

The ``MLmodel`` file is read here as plain YAML (the UI does not import the model layer):
``flavors``, ``signature`` (``inputs``/``outputs``/``params`` as JSON strings),
``model_size_bytes``, ``run_id``, ``utc_time_created``, ``mlflow_version``.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

__all__ = ["MLMODEL_FILE", "describe_model", "recorded_size", "snippets"]

MLMODEL_FILE = "MLmodel"
PYFUNC = "python_function"


def _schema(text: object) -> list[dict[str, str]]:
    """A signature's column or tensor specs as ``{name, type, required}`` rows."""
    if not isinstance(text, str) or not text.strip():
        return []
    try:
        specs = json.loads(text)
    except ValueError:
        return [{"name": "", "type": "(unreadable schema)", "required": ""}]
    rows = []
    for spec in specs if isinstance(specs, list) else []:
        if not isinstance(spec, dict):
            continue
        kind = str(spec.get("type", ""))
        if kind == "tensor" and isinstance(spec.get("tensor-spec"), dict):
            tensor = spec["tensor-spec"]
            kind = f"tensor {tensor.get('dtype', '')} {tensor.get('shape', '')}"
        elif kind in ("array", "object", "map"):
            kind = json.dumps({k: v for k, v in spec.items() if k not in ("name", "required")})
        required = spec.get("required", True)
        rows.append(
            {
                "name": str(spec.get("name", "")),
                "type": kind,
                "required": "required" if required else "optional",
            }
        )
    return rows


def _flavor_module(name: str, conf: object) -> str | None:
    """The ``mlflow.<module>`` that loads a flavor (``sklearn``, ``xgboost``...)."""
    if name == PYFUNC:
        return None
    if isinstance(conf, dict) and isinstance(conf.get("loader_module"), str):
        return str(conf["loader_module"]).rpartition(".")[2]
    return name


def _mapping(value: object) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def describe_model(text: str, total_size: int | None) -> dict[str, Any]:
    """What the browser shows of an ``MLmodel`` file's text; ``total_size`` is the size of
    the directory's files (used when the file records no ``model_size_bytes``)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return {"error": f"The MLmodel file is not valid YAML: {exc}"}
    if not isinstance(doc, dict):
        return {"error": "The MLmodel file holds no mapping"}
    flavors = _mapping(doc.get("flavors"))
    signature = _mapping(doc.get("signature"))
    size = doc.get("model_size_bytes")
    pyfunc = _mapping(flavors.get(PYFUNC)) if PYFUNC in flavors else None
    return {
        "error": None,
        "flavors": [
            {"name": str(name), "module": _flavor_module(str(name), conf)}
            for name, conf in flavors.items()
        ],
        "pyfunc_loader": pyfunc.get("loader_module") if pyfunc else None,
        "inputs": _schema(signature.get("inputs")),
        "outputs": _schema(signature.get("outputs")),
        "params": _schema(signature.get("params")),
        "size": size if isinstance(size, int) else total_size,
        "run_id": doc.get("run_id"),
        "created": doc.get("utc_time_created"),
        "mlflow_version": doc.get("mlflow_version"),
        "model_uuid": doc.get("model_uuid"),
    }


def recorded_size(text: str) -> int | None:
    """The ``model_size_bytes`` an ``MLmodel`` file's text records (None when it records
    none or is not a YAML mapping). Parsed with libyaml when PyYAML has it: the runs table
    reads one file per model of its page."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        doc = yaml.load(text, Loader=loader)
    except yaml.YAMLError:
        return None
    size = doc.get("model_size_bytes") if isinstance(doc, dict) else None
    return size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None


def snippets(model: dict[str, Any], model_uri: str, tracking_uri: str) -> list[dict[str, str]]:
    """The code to load the model and predict: pyfunc, each flavor, and a Spark UDF."""
    head = f'mlflow.set_tracking_uri("{tracking_uri}")\nlogged_model = "{model_uri}"\n'
    out = []
    if model.get("pyfunc_loader") is not None:
        out.append(
            {
                "title": "Predict on a pandas DataFrame (pyfunc)",
                "code": "import pandas as pd\nimport trackline as mlflow  # or: import mlflow\n\n"
                + head
                + "\n# Load the model as a PyFuncModel.\n"
                "loaded_model = mlflow.pyfunc.load_model(logged_model)\n\n"
                "# Predict on a pandas DataFrame.\n"
                "loaded_model.predict(pd.DataFrame(data))\n",
            }
        )
    for flavor in model.get("flavors", []):
        module = flavor.get("module")
        if not module:
            continue
        out.append(
            {
                "title": f"Load it in its own flavor ({flavor['name']})",
                "code": "import trackline as mlflow  # or: import mlflow\n\n"
                + head
                + f"\nmodel = mlflow.{module}.load_model(logged_model)\n",
            }
        )
    if model.get("pyfunc_loader") is not None:
        out.append(
            {
                "title": "Predict on a Spark DataFrame (Spark UDF; needs pyspark)",
                "code": "import trackline as mlflow  # or: import mlflow\n"
                "from pyspark.sql.functions import struct, col\n\n"
                + head
                + "\n# Load the model as a Spark UDF; set result_type to what the model "
                "returns if not doubles.\n"
                "loaded_model = mlflow.pyfunc.spark_udf(spark, model_uri=logged_model, "
                "result_type='double')\n\n"
                "# Predict on a Spark DataFrame.\n"
                "df.withColumn('predictions', loaded_model(struct(*map(col, df.columns))))\n",
            }
        )
    return out
