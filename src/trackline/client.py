"""``from trackline.client import MlflowClient``, as ``from mlflow.client import MlflowClient``."""

from trackline.tracking.client import MlflowClient, TracklineClient

__all__ = ["MlflowClient", "TracklineClient"]
