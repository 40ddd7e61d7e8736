"""trackline's tracking server: an ASGI application speaking MLflow's REST protocol.

``create_app(backend_store_uri, default_artifact_root)`` builds it; ``trackline server``
runs it under uvicorn. Needs the ``server`` extra (``pip install 'trackline[server]'``).
"""

from trackline.server.app import create_app

__all__ = ["create_app"]
