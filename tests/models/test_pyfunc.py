"""``trackline.pyfunc``: loading any model as a function, and custom Python models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import trackline
import trackline.pyfunc
from trackline.exceptions import InvalidParameterValue, MlflowException, ResourceDoesNotExist
from trackline.models import Model


class AddN(trackline.pyfunc.PythonModel):
    """Adds the number in its artifact ``n``, plus the ``bonus`` param."""

    def load_context(self, context: Any) -> None:
        self.n = int(Path(context.artifacts["n"]).read_text())
        self.config = context.model_config

    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        return model_input + self.n + (params or {}).get("bonus", 0)


def test_python_model_with_artifacts_code_and_config(tmp_path: Path) -> None:
    (tmp_path / "n.txt").write_text("3")
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "tl_helper_mod.py").write_text("VALUE = 42\n")
    frame = pd.DataFrame({"x": [1, 2]})
    folder = tmp_path / "model"
    trackline.pyfunc.save_model(
        folder,
        python_model=AddN(),
        artifacts={"n": str(tmp_path / "n.txt")},
        code_paths=[str(tmp_path / "helpers")],
        input_example=(frame, {"bonus": 0}),
        model_config={"mode": "test"},
    )
    conf = yaml.safe_load((folder / "MLmodel").read_text())["flavors"]["python_function"]
    assert conf["loader_module"] == "mlflow.pyfunc.model"
    assert conf["python_model"] == "python_model.pkl"
    assert conf["artifacts"] == {"n": {"path": "artifacts/n.txt", "uri": str(tmp_path / "n.txt")}}
    assert conf["code"] == "code"
    assert (folder / "code" / "helpers" / "tl_helper_mod.py").is_file()
    assert "cloudpickle" in (folder / "requirements.txt").read_text()

    loaded = trackline.pyfunc.load_model(str(folder))
    pd.testing.assert_frame_equal(loaded.predict(frame), frame + 3)
    pd.testing.assert_frame_equal(loaded.predict(frame, params={"bonus": 10}), frame + 13)
    assert loaded.unwrap_python_model().config == {"mode": "test"}
    assert loaded.metadata.get_params_schema() is not None
    with pytest.raises(InvalidParameterValue, match="missing inputs"):
        loaded.predict(pd.DataFrame({"y": [1]}))


def test_functions_and_loader_modules(tmp_path: Path) -> None:
    trackline.pyfunc.save_model(tmp_path / "f", python_model=lambda df: df * 2)
    assert list(trackline.pyfunc.load_model(str(tmp_path / "f")).predict(np.ones(2))) == [2, 2]
    with pytest.raises(InvalidParameterValue, match="either python_model or loader_module"):
        trackline.pyfunc.save_model(tmp_path / "g")
    with pytest.raises(MlflowException, match="already exists and is not empty"):
        trackline.pyfunc.save_model(tmp_path / "f", python_model=lambda df: df)


def test_a_model_without_pyfunc_flavor(tmp_path: Path) -> None:
    Model().add_flavor("only_native", data="x").save(tmp_path / "MLmodel")
    with pytest.raises(ResourceDoesNotExist, match='does not have the "python_function" flavor'):
        trackline.pyfunc.load_model(str(tmp_path))
    with pytest.raises(InvalidParameterValue, match="format must be"):
        trackline.pyfunc.get_model_dependencies(str(tmp_path), format="npm")


def test_log_model_of_a_python_model(sqlite_tracking: str, tmp_path: Path) -> None:
    (tmp_path / "n.txt").write_text("1")
    trackline.set_experiment("custom")
    with trackline.start_run() as run:
        trackline.log_metric("loss", 0.3, step=0)
        trackline.log_metric("loss", 0.2, step=1)
        info = trackline.pyfunc.log_model(
            name="adder",
            python_model=AddN(),
            artifacts={"n": str(tmp_path / "n.txt")},
            params={"extra": 1},
            tags={"team": "a"},
            model_type="adder",
        )
    assert info.params == {"extra": "1"}
    assert info.tags["team"] == "a"
    assert [(m.key, m.value, m.step) for m in info.metrics or []] == [("loss", 0.3, 0)]
    loaded = trackline.pyfunc.load_model(f"runs:/{run.info.run_id}/adder")
    assert list(loaded.predict(np.array([1, 2]))) == [2, 3]
    requirements = trackline.pyfunc.get_model_dependencies(info.model_uri)
    assert Path(requirements).name == "requirements.txt"
    assert trackline.models.get_model_info(info.model_uri).model_id == info.model_id


_LOAD_AND_EXIT = """
import sys
import numpy as np
import trackline
from trackline.models import location

trackline.set_tracking_uri(sys.argv[1])
with trackline.start_run() as run:
    trackline.pyfunc.log_model(name="m", python_model=sys.modules["__main__"].Twice())
model = trackline.pyfunc.load_model(f"runs:/{run.info.run_id}/m")
assert list(model.predict(np.array([1]))) == [2]
try:
    trackline.pyfunc.load_model(f"runs:/{run.info.run_id}/nothing")
except trackline.exceptions.MlflowException:
    pass
print("\\n".join(location._scratch))
"""


def test_download_folders_are_removed_at_exit(tmp_path: Path) -> None:
    """A model loaded from a store without ``dst_path`` is downloaded into a temporary
    folder that lives until the process exits (the model may read its files until then);
    a failed download leaves none."""
    import subprocess
    import sys

    script = (
        "import trackline.pyfunc\n"
        + (
            "class Twice(trackline.pyfunc.PythonModel):\n"
            "    def predict(self, context, model_input, params=None):\n"
            "        return model_input * 2\n"
        )
        + _LOAD_AND_EXIT
    )
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    done = subprocess.run(
        [sys.executable, "-c", script, uri], capture_output=True, text=True, timeout=120,
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    folders = done.stdout.split()
    assert len(folders) == 1  # the failed download's folder was removed at once
    assert Path(folders[0]).name.startswith("trackline-model-")
    assert not Path(folders[0]).exists()
