"""Every URL of the web UI, built in one place (templates, views and tests use these).

Each page lives at a path and its JSON twin at the same path under :data:`API_PREFIX`, with
the same query string: ``/experiments/1?filter=...`` and ``/ui-api/experiments/1?filter=...``.
The UI's state-changing calls are POSTs under :data:`API_PREFIX` too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import quote, urlencode

__all__ = [
    "API_PREFIX",
    "STATIC_PREFIX",
    "artifact_download",
    "artifacts",
    "compare",
    "experiment",
    "experiment_count",
    "experiment_runs",
    "experiments",
    "metric",
    "model",
    "model_version",
    "models",
    "run",
    "static",
    "twin",
]

#: Where the JSON twins and the UI's POST calls live.
API_PREFIX = "/ui-api"
#: Where the UI's own CSS and JavaScript are served.
STATIC_PREFIX = "/static/ui"
#: Plotly.js, served from the installed ``plotly`` package.
PLOTLY_JS = "/static/vendor/plotly.min.js"


def _with_query(path: str, query: Mapping[str, object] | None) -> str:
    if not query:
        return path
    items = [(k, str(v)) for k, v in query.items() if v is not None and v != ""]
    return f"{path}?{urlencode(items)}" if items else path


def _segment(value: str) -> str:
    return quote(value, safe="")


def experiments(**query: object) -> str:
    """The experiments list (the home page)."""
    return _with_query("/", query)


def experiment(experiment_id: str, **query: object) -> str:
    """An experiment's runs table."""
    return _with_query(f"/experiments/{_segment(experiment_id)}", query)


def experiment_count(experiment_id: str, **query: object) -> str:
    """How many runs of an experiment match (JSON: ``{"total": n}``; takes ``filter`` and
    ``view`` as the experiment's page does)."""
    return _with_query(f"{API_PREFIX}/experiments/{_segment(experiment_id)}/count", query)


def experiment_runs(experiment_id: str, **query: object) -> str:
    """An experiment's runs by name, for pickers (JSON: ``{"runs": [...]}``; takes ``q`` and
    ``limit``)."""
    return _with_query(f"{API_PREFIX}/experiments/{_segment(experiment_id)}/runs", query)


def run(run_id: str, **query: object) -> str:
    """A run's page."""
    return _with_query(f"/runs/{_segment(run_id)}", query)


def artifacts(run_id: str, path: str = "") -> str:
    """A run's artifact browser, at a file or folder."""
    return _with_query(f"/runs/{_segment(run_id)}/artifacts", {"path": path})


def artifact_download(run_id: str, path: str) -> str:
    """A run's artifact file as a download (the server's ``/get-artifact``)."""
    return _with_query("/get-artifact", {"run_id": run_id, "path": path})


def metric(run_id: str, key: str, **query: object) -> str:
    """The chart of a run's metric (a key may hold ``/``: it stays a path)."""
    return _with_query(f"/runs/{_segment(run_id)}/metrics/{quote(key, safe='/')}", query)


def compare(run_ids: Iterable[str], **query: object) -> str:
    """The comparison of several runs."""
    return _with_query("/compare", {"runs": ",".join(run_ids), **query})


def models(**query: object) -> str:
    """The registered models."""
    return _with_query("/models", query)


def model(name: str, **query: object) -> str:
    """A registered model's page (names hold no ``/``: one path segment)."""
    return _with_query(f"/models/{_segment(name)}", query)


def model_version(name: str, version: object) -> str:
    """A model version's page."""
    return f"/models/{_segment(name)}/versions/{_segment(str(version))}"


def twin(url: str) -> str:
    """The JSON twin of a page URL (``/`` has ``/ui-api/``)."""
    return API_PREFIX + url


def static(name: str, version: str = "") -> str:
    """A file of the UI's own static folder (``css/app.css``, ``js/runs_table.js``)."""
    return _with_query(f"{STATIC_PREFIX}/{name}", {"v": version})
