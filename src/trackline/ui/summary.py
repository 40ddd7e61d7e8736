"""A run's header: what every page about one run shows at its top."""

from __future__ import annotations

from typing import Any

from trackline.entities import Run
from trackline.ui.context import UiContext

__all__ = ["run_summary"]


def run_summary(ctx: UiContext, run: Run) -> dict[str, Any]:
    """The run's info and experiment, as every run page's header shows them."""
    info, tags = run.info, run.data.tags
    experiment = ctx.store.get_experiment(info.experiment_id)
    end = info.end_time
    return {
        "run_id": info.run_id,
        "name": info.run_name or tags.get("mlflow.runName") or info.run_id,
        "experiment_id": info.experiment_id,
        "experiment_name": experiment.name,
        "status": info.status,
        "lifecycle_stage": info.lifecycle_stage,
        "start_time": info.start_time,
        "end_time": end,
        "duration": (end - info.start_time) if end and info.start_time else None,
        "user_id": info.user_id or tags.get("mlflow.user"),
        "artifact_uri": info.artifact_uri,
        "source": {
            "name": tags.get("mlflow.source.name"),
            "type": tags.get("mlflow.source.type"),
            "git_commit": tags.get("mlflow.source.git.commit"),
            "branch": tags.get("mlflow.source.git.branch"),
            "repo": tags.get("mlflow.source.git.repoURL"),
            "entry_point": tags.get("mlflow.project.entryPoint"),
        },
    }
