"""``models:/`` URIs: every form MLflow accepts, sub-paths, and clear errors for the rest."""

from __future__ import annotations

import pytest

from trackline.exceptions import InvalidParameterValue
from trackline.tracking.model_uri import ModelUri, is_models_uri, parse_model_uri, split_models_uri


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("models:/m/1", ModelUri(name="m", version="1")),
        ("models:/m/007", ModelUri(name="m", version="7")),
        ("models:/m/Production", ModelUri(name="m", stage="Production")),
        ("models:/m/staging", ModelUri(name="m", stage="staging")),
        ("models:/m/latest", ModelUri(name="m", latest=True)),
        ("models:/m/LATEST", ModelUri(name="m", latest=True)),
        ("models:/m@champion", ModelUri(name="m", alias="champion")),
        ("models:/m-0123456789abcdef0123456789abcdef",
         ModelUri(model_id="m-0123456789abcdef0123456789abcdef")),
        ("models:/m/1/", ModelUri(name="m", version="1")),
        ("models:/m/1/data/model.pkl", ModelUri(name="m", version="1", path="data/model.pkl")),
        ("models:/m@champion/MLmodel", ModelUri(name="m", alias="champion", path="MLmodel")),
        ("models:/my model/2", ModelUri(name="my model", version="2")),
        ("models:/team@ml@prod", ModelUri(name="team@ml", alias="prod")),
    ],
)  # fmt: skip
def test_forms(uri: str, expected: ModelUri) -> None:
    assert parse_model_uri(uri) == expected


@pytest.mark.parametrize(
    "uri",
    [
        "models:",
        "models:/",
        "models:m/1",
        "models://host/m/1",
        "models:/m//1",
        "models:/ /1",
        "models:/m@",
        "models:/@alias",
        "models:/m@a/1/x" + "/../..",
        "models:/m/1/../../etc/passwd",
        "models:/m/1?x=1",
        "models:/m/1#frag",
        "runs:/abc/model",
        "models:/m\x00/1",
    ],
)
def test_malformed_uris_say_what_the_forms_are(uri: str) -> None:
    with pytest.raises(InvalidParameterValue, match="models:/<name>/<version>"):
        parse_model_uri(uri)


def test_split_and_detect() -> None:
    assert split_models_uri("models:/m/1/a/b") == ("models:/m/1", "a/b")
    assert split_models_uri("models:/m@x/a") == ("models:/m@x", "a")
    assert split_models_uri("models:/m/1") == ("models:/m/1", "")
    assert is_models_uri("MODELS:/m/1")
    assert not is_models_uri("runs:/r/model")
    assert not is_models_uri(None)
