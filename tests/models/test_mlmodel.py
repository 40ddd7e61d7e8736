"""The model folder's files: MLmodel, input examples and environment files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from trackline.exceptions import InvalidParameterValue, ResourceDoesNotExist
from trackline.models import Model, ModelSignature, Schema
from trackline.models.environment import installed_version, write_environment
from trackline.models.input_example import InputExample, load_input_example, save_input_example
from trackline.models.model import MLFLOW_FORMAT_VERSION
from trackline.version import __version__

# An MLmodel as MLflow 3.17.2 writes it for a logged scikit-learn model.
MLFLOW_MLMODEL = """\
artifact_path: mlflow-artifacts:/1/models/m-d737/artifacts
flavors:
  python_function:
    env: {conda: conda.yaml, virtualenv: python_env.yaml}
    loader_module: mlflow.sklearn
    model_path: model.skops
    predict_fn: predict
    python_version: 3.11.7
  sklearn:
    code: null
    pickled_model: model.skops
    serialization_format: skops
    sklearn_version: 1.9.1
    skops_trusted_types: null
is_signature_from_type_hint: false
mlflow_version: 3.17.2
model_id: m-d737
model_size_bytes: 9487
model_uuid: m-d737
prompts: null
run_id: d7643
saved_input_example_info: {artifact_path: input_example.json, serving_input_path: serving_input_example.json, type: ndarray}
signature:
  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 3]}}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
  params: null
type_hint_from_example: false
utc_time_created: '2026-11-22 13:01:13.475436'
env_vars: [OPENAI_API_KEY]
"""  # noqa: E501


def test_an_mlflow_mlmodel_reads_and_writes_back_unchanged(tmp_path: Path) -> None:
    (tmp_path / "MLmodel").write_text(MLFLOW_MLMODEL)
    model = Model.load(tmp_path)
    assert (model.model_id, model.run_id, model.mlflow_version) == ("m-d737", "d7643", "3.17.2")
    assert model.flavors["sklearn"]["serialization_format"] == "skops"
    assert model.get_input_schema() == Schema.from_json(
        '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 3]}}]'
    )
    assert model.env_vars == ["OPENAI_API_KEY"]  # a key trackline does not model
    assert model.to_dict() == yaml.safe_load(MLFLOW_MLMODEL)
    model.save(tmp_path / "copy")
    assert yaml.safe_load((tmp_path / "copy").read_text()) == yaml.safe_load(MLFLOW_MLMODEL)


def test_a_new_mlmodel(tmp_path: Path) -> None:
    model = Model(run_id=None).add_flavor("custom", data="x.bin")
    model.save(tmp_path / "MLmodel")
    written = yaml.safe_load((tmp_path / "MLmodel").read_text())
    assert written["mlflow_version"] == MLFLOW_FORMAT_VERSION
    assert written["trackline_version"] == __version__
    assert written["model_id"] is None
    assert "run_id" not in written
    assert "artifact_path" not in written
    assert len(written["model_uuid"]) == 32
    assert list(written) == sorted(written)  # MLflow sorts the keys too
    text = (tmp_path / "MLmodel").read_text()
    assert text.index("flavors:") < text.index("utc_time_created:")


def test_missing_or_broken_mlmodel(tmp_path: Path) -> None:
    with pytest.raises(ResourceDoesNotExist, match='Could not find an "MLmodel" file'):
        Model.load(tmp_path)
    (tmp_path / "MLmodel").write_text("flavors: [1, 2]\n")
    with pytest.raises(InvalidParameterValue, match="'flavors' must be a mapping"):
        Model.load(tmp_path)


def test_input_examples_in_mlflow_formats(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1.0, np.nan], "b": [3, 4]})
    saved = save_input_example(frame, tmp_path)
    assert saved is not None
    assert saved.info == {
        "artifact_path": "input_example.json",
        "type": "dataframe",
        "pandas_orient": "split",
        "serving_input_path": "serving_input_example.json",
    }
    assert json.loads((tmp_path / "input_example.json").read_text()) == {
        "columns": ["a", "b"], "data": [[1.0, 3], [None, 4]]
    }  # fmt: skip
    serving = json.loads((tmp_path / "serving_input_example.json").read_text())
    assert serving == {"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, 3], [None, 4]]}}
    schema = Schema.from_json(
        '[{"type": "double", "name": "a", "required": false},'
        ' {"type": "long", "name": "b", "required": true}]'
    )
    pd.testing.assert_frame_equal(load_input_example(tmp_path, saved.info, schema), frame)

    array = InputExample(np.array([[1.0, 2.0]]))
    assert (array.info["type"], array.example_json) == ("ndarray", "[[1.0, 2.0]]")
    assert json.loads(array.serving_json) == {"inputs": [[1.0, 2.0]]}
    with_params = InputExample(({"q": "hi"}, {"temperature": 0.1}))
    assert with_params.info["params"] == "true"
    assert json.loads(with_params.example_json) == {"inputs": {"q": "hi"},
                                                    "params": {"temperature": 0.1}}  # fmt: skip
    assert json.loads(with_params.serving_json) == {"inputs": {"q": "hi"},
                                                    "params": {"temperature": 0.1}}  # fmt: skip
    assert json.loads(InputExample(b"\x00").example_json) == "AA==\n"
    with pytest.raises(InvalidParameterValue, match="cannot mix numpy arrays"):
        InputExample({"x": np.zeros(2), "y": 1})
    with pytest.raises(InvalidParameterValue, match="got a set"):
        InputExample({1, 2})
    ndarray = tmp_path / "nd"
    ndarray.mkdir()
    info = InputExample({"x": np.array([1, 2])})
    info.save(ndarray)
    loaded = load_input_example(ndarray, info.info)
    np.testing.assert_array_equal(loaded["x"], np.array([1, 2]))


def test_environment_files(tmp_path: Path) -> None:
    requirements = write_environment(
        tmp_path, ["numpy==1.0", "pandas==2.0"], extra_pip_requirements=None
    )
    assert requirements == ["numpy==1.0", "pandas==2.0"]
    assert (tmp_path / "requirements.txt").read_text() == "numpy==1.0\npandas==2.0"
    python = ".".join(map(str, sys.version_info[:3]))
    python_env = yaml.safe_load((tmp_path / "python_env.yaml").read_text())
    assert python_env["python"] == python
    assert python_env["dependencies"] == ["-r requirements.txt"]
    assert [d.split("==")[0] for d in python_env["build_dependencies"]] == [
        "pip", "setuptools", "wheel"
    ]  # fmt: skip
    assert list(python_env) == ["python", "build_dependencies", "dependencies"]
    conda = yaml.safe_load((tmp_path / "conda.yaml").read_text())
    assert conda["name"] == "mlflow-env"
    assert conda["channels"] == ["conda-forge"]
    assert conda["dependencies"][0] == f"python={python}"
    assert conda["dependencies"][-1] == {"pip": ["numpy==1.0", "pandas==2.0"]}

    extra = tmp_path / "extra"
    extra.mkdir()
    assert write_environment(extra, ["numpy==1.0"], extra_pip_requirements=["numpy>=2", "x"]) == [
        "numpy>=2", "x"
    ]  # fmt: skip
    given = tmp_path / "given"
    given.mkdir()
    (tmp_path / "reqs.txt").write_text("# comment\nscikit-learn\n\n-c constraints.txt\n")
    assert write_environment(given, ["numpy"], pip_requirements=tmp_path / "reqs.txt") == [
        "scikit-learn", "-c constraints.txt"
    ]  # fmt: skip
    conda_given = tmp_path / "conda_given"
    conda_given.mkdir()
    env = {"name": "e", "dependencies": ["python=3.11", {"pip": ["xgboost==2.0"]}]}
    assert write_environment(conda_given, ["numpy"], conda_env=env) == ["xgboost==2.0"]
    assert yaml.safe_load((conda_given / "conda.yaml").read_text()) == env
    with pytest.raises(InvalidParameterValue, match="Only one of"):
        write_environment(tmp_path, [], pip_requirements=["a"], extra_pip_requirements=["b"])


def test_installed_versions() -> None:
    assert installed_version("numpy") == np.__version__
    assert installed_version("xgboost") is not None  # installed as xgboost-cpu
    assert installed_version("no-such-package-here") is None


def test_signature_in_mlmodel(tmp_path: Path) -> None:
    signature = ModelSignature(Schema.from_json('[{"type": "string", "required": true}]'))
    Model(signature=signature).save(tmp_path / "MLmodel")
    written = yaml.safe_load((tmp_path / "MLmodel").read_text())
    assert written["signature"] == {
        "inputs": '[{"type": "string", "required": true}]', "outputs": None, "params": None
    }  # fmt: skip
    assert written["is_signature_from_type_hint"] is False
    assert Model.load(tmp_path).signature == signature
