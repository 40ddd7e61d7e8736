"""LoggedModel and LoggedModelStatus keep MLflow's names and convert between the protocol's
names and numbers."""

from __future__ import annotations

import pytest

from trackline.entities import (
    LoggedModel,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
)


@pytest.mark.parametrize(
    ("status", "number", "proto"),
    [
        (LoggedModelStatus.UNSPECIFIED, 0, "LOGGED_MODEL_STATUS_UNSPECIFIED"),
        (LoggedModelStatus.PENDING, 1, "LOGGED_MODEL_PENDING"),
        (LoggedModelStatus.READY, 2, "LOGGED_MODEL_READY"),
        (LoggedModelStatus.FAILED, 3, "LOGGED_MODEL_UPLOAD_FAILED"),
    ],
)
def test_status_numbers_and_names(status: LoggedModelStatus, number: int, proto: str) -> None:
    assert (status.to_int(), status.to_proto_name()) == (number, proto)
    assert LoggedModelStatus.from_int(number) is status
    for given in (status, number, proto, status.value, status.value.lower(), str(number)):
        assert LoggedModelStatus.from_value(given) is status
    assert str(status) == status.value


def test_unknown_statuses_are_errors() -> None:
    for given in ("DONE", 7, "", True, None):
        with pytest.raises(ValueError, match="logged model status"):
            LoggedModelStatus.from_value(given)  # type: ignore[arg-type]
    assert LoggedModelStatus.from_value("upload_failed") is LoggedModelStatus.FAILED


def test_finalized_statuses() -> None:
    assert LoggedModelStatus.is_finalized("READY")
    assert LoggedModelStatus.is_finalized(3)
    assert not LoggedModelStatus.is_finalized(LoggedModelStatus.PENDING)


def test_logged_model_attributes_and_dictionary() -> None:
    model = LoggedModel(
        "1", "m-abc", "model", "file:///a/models/m-abc/artifacts", 10, 20,
        source_run_id="r1", status=2,
        tags=[LoggedModelTag("t", "v")], params={"p": "1"},
        metrics=[Metric("acc", 0.9, 5, 0, model_id="m-abc", run_id="r1")],
    )  # fmt: skip
    assert model.status is LoggedModelStatus.READY
    assert (model.tags, model.params) == ({"t": "v"}, {"p": "1"})
    assert model.model_uri == "models:/m-abc"
    assert model.lifecycle_stage == "active"
    out = model.to_dictionary()
    assert out["status"] == "READY"
    assert out["metrics"][0]["model_id"] == "m-abc"
    assert not {"model_type", "status_message"} & set(out)
    assert "m-abc" in repr(model)
    same = LoggedModel(
        "1", "m-abc", "model", "file:///a/models/m-abc/artifacts", 10, 20,
        source_run_id="r1", status="LOGGED_MODEL_READY",
        tags={"t": "v"}, params=[LoggedModelParameter("p", "1")],
        metrics=[Metric("acc", 0.9, 5, 0, model_id="m-abc", run_id="r1")],
    )  # fmt: skip
    assert same == model
    assert model != LoggedModel("1", "m-other", "model", "x", 10, 20)
    assert model.__eq__(object()) is NotImplemented
