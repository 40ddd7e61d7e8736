"""Runs as a pandas DataFrame, built column by column.

The columns are MLflow's: ``run_id, experiment_id, status, artifact_uri, start_time,
end_time`` (UTC datetimes), then ``metrics.<key>`` (float, NaN when absent), ``params.<key>``
and ``tags.<key>`` (None when absent), each group in order of first appearance.

The frame is made from :class:`~trackline.entities.RunColumns` (which the SQL store reads
straight from the database): each column is one list handed to pandas whole, so there is no
per-value Python step and no intermediate dict per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from trackline.entities import Run, RunColumns

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["INFO_COLUMNS", "columns_to_dataframe", "runs_to_dataframe"]

INFO_COLUMNS = ("run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time")


def _times(values: list[int | None]) -> Any:
    import numpy as np
    import pandas as pd

    millis = np.array([float("nan") if v is None else v for v in values], dtype=np.float64)
    return pd.to_datetime(millis, unit="ms", utc=True)


def columns_to_dataframe(columns: RunColumns) -> pd.DataFrame:
    """A DataFrame with one row per run, in the columns' order."""
    import numpy as np
    import pandas as pd

    data: dict[str, Any] = {
        "run_id": np.array(columns.run_id, dtype=object),
        "experiment_id": np.array(columns.experiment_id, dtype=object),
        "status": np.array(columns.status, dtype=object),
        "artifact_uri": np.array(columns.artifact_uri, dtype=object),
        "start_time": _times(columns.start_time),
        "end_time": _times(columns.end_time),
    }
    for key, metric in columns.metrics.items():
        # None becomes NaN in a float array.
        data["metrics." + key] = np.array(metric, dtype=np.float64)
    for prefix, group in (("params.", columns.params), ("tags.", columns.tags)):
        for key, values in group.items():
            column = np.empty(len(values), dtype=object)
            column[:] = values
            data[prefix + key] = column
    frame: pd.DataFrame = pd.DataFrame(data, index=pd.RangeIndex(len(columns)), copy=False)
    return frame


def runs_to_dataframe(runs: Sequence[Run]) -> pd.DataFrame:
    """A DataFrame with one row per run, in the given order."""
    return columns_to_dataframe(RunColumns.from_runs(runs))
