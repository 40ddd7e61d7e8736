"""The environment files of a model folder, as MLflow writes them.

* ``requirements.txt``: one pip requirement a line, the flavor's packages pinned to the
  installed versions (``scikit-learn==1.5.2``), or the caller's ``pip_requirements``, plus
  ``extra_pip_requirements``;
* ``python_env.yaml``: the Python version, the build tools (pip, setuptools, wheel) and
  ``-r requirements.txt``;
* ``conda.yaml``: ``name: mlflow-env``, channel ``conda-forge``, the Python version, pip and
  the same pip requirements (or the caller's ``conda_env``).

trackline does not add itself or ``mlflow`` to the requirements: a model needs its framework
to be loaded, and either trackline or mlflow to be read through its pyfunc spec. Add the
one you deploy with through ``extra_pip_requirements``.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from trackline.exceptions import InvalidParameterValue

__all__ = [
    "CONDA_ENV_FILE",
    "PYTHON_ENV_FILE",
    "REQUIREMENTS_FILE",
    "installed_version",
    "pinned_requirement",
    "python_version",
    "write_environment",
]

CONDA_ENV_FILE = "conda.yaml"
PYTHON_ENV_FILE = "python_env.yaml"
REQUIREMENTS_FILE = "requirements.txt"
CONSTRAINTS_FILE = "constraints.txt"

#: Distributions that install a module under another name (``xgboost-cpu`` gives ``xgboost``).
_ALTERNATIVE_DISTRIBUTIONS = {"xgboost": ("xgboost-cpu",)}


def python_version() -> str:
    """The running Python's version, ``major.minor.micro``."""
    info = sys.version_info
    return f"{info.major}.{info.minor}.{info.micro}"


@functools.lru_cache(maxsize=256)
def _distribution_version(name: str) -> str:
    """``importlib.metadata.version``, remembered: it parses the distribution's METADATA
    file on every call, and every logged model asks for the same handful of packages.
    Only found versions are remembered (the lookup raises for a missing one), so a package
    installed later in the process is still seen; one upgraded meanwhile keeps the version
    first read (the one a process that had imported the package still runs)."""
    return importlib.metadata.version(name)


def installed_version(package: str, module: str | None = None) -> str | None:
    """The installed version of a distribution (or of the module it provides), without a
    local version label (``+cpu``); None if it is not installed."""
    names = (package, *_ALTERNATIVE_DISTRIBUTIONS.get(package, ()))
    for name in names:
        try:
            return _distribution_version(name).split("+", 1)[0]
        except importlib.metadata.PackageNotFoundError:
            continue
    try:
        imported = __import__(module or package)
    except ImportError:
        return None
    version = getattr(imported, "__version__", None)
    return str(version).split("+", 1)[0] if version else None


def pinned_requirement(package: str, module: str | None = None) -> str:
    """``package==<installed version>``, or just ``package`` when it is not installed."""
    version = installed_version(package, module)
    return f"{package}=={version}" if version else package


def _requirement_lines(requirements: str | os.PathLike[str] | Iterable[str]) -> list[str]:
    if isinstance(requirements, (str, os.PathLike)):
        path = Path(requirements)
        if not path.is_file():
            raise InvalidParameterValue(f"Requirements file {str(path)!r} does not exist")
        lines = path.read_text(encoding="utf-8").splitlines()
    else:
        lines = [str(line) for line in requirements]
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _package_name(requirement: str) -> str:
    match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return match.group(1).lower().replace("_", "-") if match else requirement


def _merged(defaults: Sequence[str], extra: Sequence[str]) -> list[str]:
    """``defaults`` then ``extra``; a package named in ``extra`` replaces its default."""
    overridden = {_package_name(r) for r in extra}
    return [r for r in defaults if _package_name(r) not in overridden] + list(extra)


def _conda_env(pip_requirements: Sequence[str]) -> dict[str, Any]:
    dependencies: list[Any] = [f"python={python_version()}"]
    pip_version = installed_version("pip")
    dependencies.append(f"pip<={pip_version}" if pip_version else "pip")
    dependencies.append({"pip": list(pip_requirements)})
    return {"name": "mlflow-env", "channels": ["conda-forge"], "dependencies": dependencies}


def _pip_from_conda(conda_env: dict[str, Any]) -> list[str]:
    for entry in conda_env.get("dependencies") or []:
        if isinstance(entry, dict) and isinstance(entry.get("pip"), list):
            return [str(r) for r in entry["pip"]]
    return []


def _python_env() -> dict[str, Any]:
    build = []
    for tool in ("pip", "setuptools", "wheel"):
        version = installed_version(tool)
        build.append(f"{tool}=={version}" if version else tool)
    return {
        "python": python_version(),
        "build_dependencies": build,
        "dependencies": [f"-r {REQUIREMENTS_FILE}"],
    }


def write_environment(
    model_dir: str | os.PathLike[str],
    default_requirements: Sequence[str],
    pip_requirements: str | os.PathLike[str] | Iterable[str] | None = None,
    extra_pip_requirements: str | os.PathLike[str] | Iterable[str] | None = None,
    conda_env: str | os.PathLike[str] | dict[str, Any] | None = None,
) -> list[str]:
    """Write ``requirements.txt``, ``python_env.yaml`` and ``conda.yaml`` into a model
    folder and return the pip requirements.

    ``pip_requirements`` (a list or a requirements file) replaces ``default_requirements``;
    ``extra_pip_requirements`` adds to the defaults; ``conda_env`` (a dict or a YAML file) is
    written as given and its pip section becomes ``requirements.txt``. At most one of the
    three can be given, as in MLflow.
    """
    given = [conda_env, pip_requirements, extra_pip_requirements]
    if sum(g is not None for g in given) > 1:
        raise InvalidParameterValue(
            "Only one of conda_env, pip_requirements and extra_pip_requirements can be given"
        )
    folder = Path(model_dir)
    if conda_env is not None:
        if isinstance(conda_env, dict):
            env = conda_env
        else:
            loaded = yaml.safe_load(Path(conda_env).read_text(encoding="utf-8"))
            if not isinstance(loaded, dict):
                raise InvalidParameterValue(f"{conda_env!s} is not a conda environment file")
            env = loaded
        requirements = _pip_from_conda(env)
    else:
        base = (
            _requirement_lines(pip_requirements)
            if pip_requirements is not None
            else list(default_requirements)
        )
        extra = _requirement_lines(extra_pip_requirements) if extra_pip_requirements else []
        requirements = _merged(base, extra)
        env = _conda_env(requirements)
    constraints = [r for r in requirements if r.startswith("-c ")]
    with open(folder / CONDA_ENV_FILE, "w", encoding="utf-8") as out:
        yaml.safe_dump(env, out, default_flow_style=False)
    if constraints:
        (folder / CONSTRAINTS_FILE).write_text("\n".join(constraints), encoding="utf-8")
    (folder / REQUIREMENTS_FILE).write_text("\n".join(requirements), encoding="utf-8")
    with open(folder / PYTHON_ENV_FILE, "w", encoding="utf-8") as out:
        yaml.safe_dump(_python_env(), out, sort_keys=False, default_flow_style=False)
    return requirements
