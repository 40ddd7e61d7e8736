"""trackline: ML experiment tracking and model registry with MLflow's API."""

from trackline.version import __version__

__all__ = ["__version__"]
