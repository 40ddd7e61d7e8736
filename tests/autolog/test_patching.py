"""The patching machinery: undoable patches, sessions that never break the user's call, runs
started and ended around it, nested calls passed through, warnings kept apart."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import pytest

import trackline as mlflow
from trackline.autolog import patching
from trackline.autolog.patching import AutologConfig, Session


class Trainer:
    def fit(self, x: int) -> int:
        return x * 2

    def fit_twice(self, x: int) -> int:
        return self.fit(x) + self.fit(x)


class Child(Trainer):
    pass


def _enable(body: Any, *, manage_run: bool = True, owner: type = Trainer, **config: Any) -> None:
    patching.safe_patch("toy", owner, "fit", body, manage_run=manage_run)
    patching.configure("toy", AutologConfig(**config))


def test_a_failure_before_the_call_is_a_warning_and_the_call_runs(
    sqlite_tracking: str, caplog: pytest.LogCaptureFixture
) -> None:
    def body(session: Session, self: Trainer, x: int) -> int:
        raise RuntimeError("boom")

    _enable(body, manage_run=False)
    with caplog.at_level(logging.WARNING, logger="trackline.autolog"):
        assert Trainer().fit(3) == 6
    assert any("boom" in r.getMessage() for r in caplog.records)


def test_a_failure_after_the_call_keeps_its_result(sqlite_tracking: str) -> None:
    calls: list[int] = []

    def body(session: Session, self: Trainer, x: int) -> int:
        calls.append(session.call(self, x))
        raise RuntimeError("after")

    _enable(body, manage_run=False, silent=True)
    assert Trainer().fit(4) == 8
    assert calls == [8]  # the user's function ran once


def test_the_users_exception_propagates_unchanged_and_fails_the_run(sqlite_tracking: str) -> None:
    cause = KeyError("inner")
    error = ValueError("bad input")

    class Failing(Trainer):
        def fit(self, x: int) -> int:
            raise error from cause

    _enable(lambda session, *a: session.call(*a), owner=Failing)
    with pytest.raises(ValueError) as raised:
        Failing().fit(1)
    assert raised.value is error
    assert raised.value.__cause__ is cause
    run = mlflow.last_active_run()
    assert run is not None
    assert run.info.status == "FAILED"
    assert run.data.tags["mlflow.autologging"] == "toy"


def test_an_interrupt_kills_the_run(sqlite_tracking: str) -> None:
    def body(session: Session, self: Trainer, x: int) -> int:
        raise KeyboardInterrupt

    _enable(body)
    with pytest.raises(KeyboardInterrupt):
        Trainer().fit(1)
    run = mlflow.last_active_run()
    assert run is not None
    assert run.info.status == "KILLED"
    assert mlflow.active_run() is None


def test_calls_inside_a_session_run_the_original(sqlite_tracking: str) -> None:
    sessions: list[int] = []

    def body(session: Session, self: Trainer, x: int) -> Any:
        sessions.append(x)
        return session.call(self, x)

    patching.safe_patch("toy", Trainer, "fit_twice", body)
    _enable(body)
    assert Trainer().fit_twice(5) == 20
    assert sessions == [5]  # the two inner fits logged nothing
    assert len(mlflow.search_runs(output_format="list")) == 1


def test_disabled_and_exclusive_run_the_original(sqlite_tracking: str) -> None:
    sessions: list[int] = []

    def body(session: Session, self: Trainer, x: int) -> Any:
        sessions.append(x)
        return session.call(self, x)

    _enable(body, exclusive=True)
    with mlflow.start_run():
        assert Trainer().fit(1) == 2
    patching.configure("toy", None)
    assert Trainer().fit(2) == 4
    assert sessions == []


def test_revert_restores_own_and_inherited_methods() -> None:
    own = vars(Trainer)["fit"]
    _enable(lambda session, *a: session.call(*a))
    _enable(lambda session, *a: session.call(*a), owner=Child)
    _enable(lambda session, *a: session.call(*a))  # twice: never stacked
    assert getattr(Trainer.fit, "__trackline_original__", None) is own
    assert "fit" in vars(Child)
    patching.revert("toy")
    assert vars(Trainer)["fit"] is own
    assert "fit" not in vars(Child)
    assert not patching.is_patched("toy")


def test_our_warnings_are_logged_the_users_are_the_users(
    sqlite_tracking: str, caplog: pytest.LogCaptureFixture
) -> None:
    class Warns(Trainer):
        def fit(self, x: int) -> int:
            warnings.warn("the user's own", UserWarning, stacklevel=1)
            return x

    def body(session: Session, self: Trainer, x: int) -> Any:
        with session.guard("compute a figure"):
            warnings.warn("a library's, while autologging", UserWarning, stacklevel=1)
        return session.call(self, x)

    _enable(body, manage_run=False, owner=Warns)
    with (
        caplog.at_level(logging.DEBUG, logger="trackline.autolog"),
        pytest.warns(UserWarning, match="the user's own"),
    ):
        assert Warns().fit(3) == 3
    assert any("while autologging" in r.getMessage() for r in caplog.records)


def test_truncation_follows_mlflow() -> None:
    params = patching.param_strings({"k" * 300: "v" * 7000})
    ((key, value),) = params.items()
    assert (len(key), key[-3:]) == (250, "...")
    assert (len(value), value[-3:]) == (6000, "...")
    ((_, tag),) = patching.tag_strings({"t": "x" * 9000}).items()
    assert len(tag) == 8000
