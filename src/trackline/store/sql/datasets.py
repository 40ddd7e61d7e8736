"""Run inputs in the SQL tracking store: datasets (one row per experiment, name and digest),
the links from datasets and logged models to the runs that used them, and input tags.

Link ids are derived from what they link (a name-based UUID), so two writers recording the
same input at once produce the same row instead of a conflict.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, select

from trackline.entities import DatasetInput, LoggedModelInput
from trackline.store.sql.schema import datasets, input_tags, inputs
from trackline.store.sql.upserts import insert_ignore

__all__ = ["write_inputs"]

_NAMESPACE = uuid.UUID("5d0f8a52-3c1e-4d8b-9a57-7e1b0c2f4a66")
_d, _i = datasets.c, inputs.c
_DATASETS = select(_d.dataset_uuid, _d.name, _d.digest).where(
    _d.experiment_id == bindparam("experiment_id"),
    _d.name.in_(bindparam("names", expanding=True)),
)
_LINKED = select(_i.source_id).where(
    _i.destination_type == "RUN",
    _i.destination_id == bindparam("run_id"),
    _i.source_type == "DATASET",
)


def _link_id(*parts: str) -> str:
    return uuid.uuid5(_NAMESPACE, "\x1f".join(parts)).hex


def write_inputs(
    conn: Connection,
    dialect: str,
    run_id: str,
    experiment_id: int,
    dataset_inputs: Sequence[DatasetInput],
    model_inputs: Sequence[LoggedModelInput],
) -> None:
    """Record datasets and logged models a run used; inputs already recorded are skipped."""
    if dataset_inputs:
        _write_datasets(conn, dialect, run_id, experiment_id, dataset_inputs)
    if model_inputs:
        conn.execute(
            insert_ignore(dialect, inputs),
            [
                {
                    "input_uuid": _link_id("RUN_INPUT", run_id, "MODEL_INPUT", m.model_id),
                    "source_type": "RUN_INPUT",
                    "source_id": run_id,
                    "destination_type": "MODEL_INPUT",
                    "destination_id": m.model_id,
                    "step": 0,
                }
                for m in model_inputs
            ],
        )


def _write_datasets(
    conn: Connection,
    dialect: str,
    run_id: str,
    experiment_id: int,
    dataset_inputs: Sequence[DatasetInput],
) -> None:
    unique: dict[tuple[str, str], DatasetInput] = {}
    for item in dataset_inputs:
        unique.setdefault((item.dataset.name, item.dataset.digest), item)
    conn.execute(
        insert_ignore(dialect, datasets),
        [
            {
                "dataset_uuid": uuid.uuid4().hex,
                "experiment_id": experiment_id,
                "name": d.name,
                "digest": d.digest,
                "dataset_source_type": d.source_type,
                "dataset_source": d.source,
                "dataset_schema": d.schema,
                "dataset_profile": d.profile,
            }
            for d in (item.dataset for item in unique.values())
        ],
    )
    names = sorted({name for name, _ in unique})
    found = conn.execute(_DATASETS, {"experiment_id": experiment_id, "names": names})
    dataset_ids = {(name, digest): dataset_id for dataset_id, name, digest in found}
    linked = set(conn.execute(_LINKED, {"run_id": run_id}).scalars())
    links, link_tags = [], []
    for identity, item in unique.items():
        dataset_id = dataset_ids[identity]
        if dataset_id in linked:
            continue
        input_id = _link_id("DATASET", dataset_id, "RUN", run_id)
        links.append(
            {
                "input_uuid": input_id,
                "source_type": "DATASET",
                "source_id": dataset_id,
                "destination_type": "RUN",
                "destination_id": run_id,
                "step": 0,
            }
        )
        seen: set[str] = set()
        for tag in item.tags:
            if tag.key not in seen:
                seen.add(tag.key)
                link_tags.append({"input_uuid": input_id, "name": tag.key, "value": tag.value})
    if links:
        conn.execute(insert_ignore(dialect, inputs), links)
    if link_tags:
        conn.execute(insert_ignore(dialect, input_tags), link_tags)
