"""The data the UI tests look at: a few experiments, ~50 runs, nested runs, metric histories
(one long, with a spike), an artifact tree with an MLmodel directory, and hostile text."""

from __future__ import annotations

import json
import math
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from trackline.artifacts.local import local_path_of
from trackline.entities import Metric, Param, RunTag
from trackline.store.sql.tracking import SqlTrackingStore
from trackline.store.uri import default_artifact_root

#: What a hostile user might log: it must show as text, never run.
SCRIPT = "<script>alert(1)</script>"
MODELS = ("tree", "linear", "xgboost")
T0 = 1_700_000_000_000
LONG_POINTS = 5000
SPIKE_STEP = 3217
SPIKE_VALUE = 99.0


@dataclass
class Seeded:
    """Ids of what :func:`seed` made."""

    experiment_id: str = ""
    empty_experiment_id: str = ""
    deleted_experiment_id: str = ""
    run_ids: list[str] = field(default_factory=list)
    parent_ids: list[str] = field(default_factory=list)
    child_ids: list[str] = field(default_factory=list)
    script_run_id: str = ""
    artifact_run_id: str = ""
    long_run_id: str = ""


def png(width: int = 240, height: int = 150) -> bytes:
    """A small PNG of a curve on a grid (no imaging library needed)."""
    curve = {x: int(height * (0.15 + 0.7 * (1 - 1 / (1 + x / 25)))) for x in range(width)}
    white, blue, grid = b"\xff\xff\xff", b"\x24\x56\xd3", b"\xe3\xe6\xeb"

    def pixel(x: int, y: int) -> bytes:
        if abs(height - 1 - y - curve[x]) <= 1:
            return blue
        return grid if x % 40 == 0 or y % 30 == 0 else white

    rows = b"".join(b"\x00" + b"".join(pixel(x, y) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    env:
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.7
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.5.0
mlflow_version: 2.12.1
model_size_bytes: 2048
model_uuid: 5b1f3c
run_id: {run_id}
signature:
  inputs: '[{{"type": "double", "name": "age", "required": true}},
    {{"type": "double", "name": "bmi", "required": true}}]'
  outputs: '[{{"type": "tensor", "tensor-spec": {{"dtype": "float64", "shape": [-1]}}}}]'
  params: null
utc_time_created: '2024-05-01 10:00:00.000000'
"""


def _artifacts(root: Path, run_id: str) -> None:
    (root / "model").mkdir(parents=True)
    (root / "model" / "MLmodel").write_text(MLMODEL.format(run_id=run_id))
    (root / "model" / "model.pkl").write_bytes(b"\x80\x04binary pickle" + bytes(range(256)))
    (root / "model" / "requirements.txt").write_text("scikit-learn==1.5.0\n")
    (root / "data").mkdir()
    (root / "data" / "sample.csv").write_text(
        "age,bmi,target\n59,32.1,151\n48,21.6,75\n72,30.5,141\n"
    )
    (root / "config.json").write_text(json.dumps({"alpha": 0.1, "note": SCRIPT}))
    (root / "notes.txt").write_text(f"A note that tries {SCRIPT} in an artifact.\n")
    (root / "params.yaml").write_text("alpha: 0.1\nmodel: tree\n")
    (root / "curve.png").write_bytes(png())


def seed(uri: str) -> Seeded:
    """Fill the (empty) store at ``uri`` as the UI tests expect."""
    out = Seeded()
    store = SqlTrackingStore(uri, default_artifact_root(uri))
    try:
        out.experiment_id = store.create_experiment("diabetes-experiment")
        out.empty_experiment_id = store.create_experiment("empty-experiment")
        out.deleted_experiment_id = store.create_experiment("old-experiment")
        store.delete_experiment(out.deleted_experiment_id)
        eid = out.experiment_id
        for index in range(48):
            model = MODELS[index % 3]
            tags = [
                RunTag("team", ("vision", "tabular")[index % 2]),
                RunTag("mlflow.source.name", "train.py"),
                RunTag("mlflow.user", "ana"),
            ]
            is_child = index % 8 in (1, 2, 3) and out.parent_ids
            if is_child:
                tags.append(RunTag("mlflow.parentRunId", out.parent_ids[-1]))
            run = store.create_run(eid, "ana", T0 + index * 60_000, tags, f"run-{index:02d}")
            run_id = run.info.run_id
            rmse = round(50 + 30 * math.sin(index) + index, 3)
            history = [Metric("rmse", rmse + 20 / (s + 1), T0 + index * 60_000 + s * 100, s)
                       for s in range(20)]  # fmt: skip
            store.log_batch(
                run_id,
                metrics=[*history, Metric("mae", rmse * 0.8, T0, 0),
                         Metric("r2", 1 - index / 100, T0, 0)],
                params=[Param("model", model), Param("alpha", f"{0.05 * (index % 7 + 1):.2f}"),
                        Param("max_depth", str(2 + index % 6))],
            )  # fmt: skip
            store.update_run_info(
                run_id, "FINISHED", T0 + index * 60_000 + 5000 + index * 777, None
            )
            out.run_ids.append(run_id)
            if is_child:
                out.child_ids.append(run_id)
            elif index % 8 == 0:
                out.parent_ids.append(run_id)
        script = store.create_run(eid, "ana", T0 + 60 * 60_000, [RunTag("note", SCRIPT)],
                                  "<b>bold</b> run")  # fmt: skip
        out.script_run_id = script.info.run_id
        store.log_batch(out.script_run_id, params=[Param("model", SCRIPT)])
        out.run_ids.append(out.script_run_id)
        artifact = store.create_run(eid, "ana", T0 + 61 * 60_000, [], "with-artifacts")
        out.artifact_run_id = artifact.info.run_id
        _artifacts(local_path_of(str(artifact.info.artifact_uri)), out.artifact_run_id)
        out.run_ids.append(out.artifact_run_id)
        long_run = store.create_run(eid, "ana", T0 + 62 * 60_000, [], "long-history")
        out.long_run_id = long_run.info.run_id
        points = [
            Metric("loss", SPIKE_VALUE if s == SPIKE_STEP else 1 / (1 + s / 300), T0 + s * 10, s)
            for s in range(LONG_POINTS)
        ]
        for first in range(0, LONG_POINTS, 1000):
            store.log_batch(out.long_run_id, metrics=points[first : first + 1000])
        out.run_ids.append(out.long_run_id)
    finally:
        store.close()
    return out
