"""The REST tracking store: trackline's client of MLflow's tracking protocol, used for
``http://`` and ``https://`` tracking URIs (a trackline server or an MLflow server)."""

from trackline.store.rest.tracking import RestTrackingStore

__all__ = ["RestTrackingStore"]
