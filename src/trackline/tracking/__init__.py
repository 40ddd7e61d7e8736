"""Tracking: the client (``MlflowClient``), the fluent API and the tracking URI.

``from trackline.tracking import MlflowClient`` works as ``from mlflow.tracking import
MlflowClient`` does.
"""

from trackline.tracking.client import MlflowClient, TracklineClient
from trackline.tracking.uri import get_tracking_uri, set_tracking_uri

__all__ = ["MlflowClient", "TracklineClient", "get_tracking_uri", "set_tracking_uri"]
