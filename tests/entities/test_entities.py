"""Entities keep MLflow's names, attributes and dictionary shapes."""

from __future__ import annotations

import pytest

from trackline.entities import (
    Experiment,
    ExperimentTag,
    FileInfo,
    LifecycleStage,
    Metric,
    PagedList,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)


def test_run_info_accepts_mlflow_positional_order_and_aliases() -> None:
    info = RunInfo("abc", "1", "me", "RUNNING", 10, None, "active", "file:///a", run_name="n")
    assert info.run_id == info.run_uuid == "abc"
    assert info.experiment_id == "1"
    d = info.to_dictionary()
    assert d["run_uuid"] == d["run_id"] == "abc"
    assert "end_time" not in d  # unset fields are omitted, as on the wire


def test_run_data_exposes_dicts() -> None:
    data = RunData(
        metrics=[Metric("rmse", 6.5, 1, 0)], params=[Param("alpha", "0.1")], tags=[RunTag("t", "v")]
    )
    assert data.metrics == {"rmse": 6.5}
    assert data.params == {"alpha": "0.1"}
    assert data.tags == {"t": "v"}
    run = Run(RunInfo(run_id="r", experiment_id="0"), data)
    assert run.data.metrics["rmse"] == 6.5
    assert run.to_dictionary()["inputs"] == {}


def test_experiment_tags_are_a_dict() -> None:
    exp = Experiment("1", "e", "file:///x/1", "active", [ExperimentTag("k", "v")])
    assert exp.tags == {"k": "v"}
    assert exp.to_dictionary()["tags"] == [{"key": "k", "value": "v"}]
    assert exp == Experiment("1", "e", "file:///x/1", "active", {"k": "v"})


def test_run_status_round_trip_and_errors() -> None:
    for status in RunStatus.all_status():
        assert RunStatus.from_string(RunStatus.to_string(status)) == status
    assert RunStatus.is_terminated("FAILED")
    assert not RunStatus.is_terminated(RunStatus.RUNNING)
    with pytest.raises(ValueError, match="Valid run status"):
        RunStatus.from_string("DONE")


def test_view_types_and_lifecycle() -> None:
    assert ViewType.from_string("active_only") == ViewType.ACTIVE_ONLY
    assert ViewType.to_string(ViewType.ALL) == "ALL"
    assert LifecycleStage.view_type_to_stages(ViewType.ALL) == ["active", "deleted"]
    assert LifecycleStage.matches_view_type(ViewType.DELETED_ONLY, "deleted")
    assert not LifecycleStage.matches_view_type(ViewType.ACTIVE_ONLY, "deleted")


def test_file_info_omits_size_of_folders() -> None:
    assert FileInfo("dir", True).to_dictionary() == {"path": "dir", "is_dir": True}
    assert FileInfo("a.txt", False, 3).to_dictionary()["file_size"] == 3


def test_paged_list_carries_token() -> None:
    page = PagedList([1, 2], token="next")
    assert list(page) == [1, 2]
    assert page.token == "next"


def test_run_data_from_dicts_matches_the_entity_constructor() -> None:
    metric = Metric("rmse", 1.5, 2, 3)
    built = RunData.from_dicts([metric], {"alpha": "0.1"}, {"t": "v"})
    assert built == RunData([metric], [Param("alpha", "0.1")], [RunTag("t", "v")])
    assert built.to_dictionary()["metrics"] == [metric.to_dictionary()]
