"""``experiments/*`` on both prefixes."""

from __future__ import annotations

from pathlib import Path

import pytest

from trackline.exceptions import InvalidParameterValue
from trackline.server.routes.experiments import check_artifact_location

from ..conftest import Api


def test_create_then_get_and_get_by_name(api: Api, artifact_root: Path) -> None:
    body = {"name": "exp", "tags": [{"key": "team", "value": "a"}]}
    experiment_id = api.ok("POST", "experiments/create", body)["experiment_id"]
    assert isinstance(experiment_id, str)
    experiment = api.ok("GET", "experiments/get", {"experiment_id": experiment_id})["experiment"]
    assert experiment["name"] == "exp"
    assert experiment["lifecycle_stage"] == "active"
    assert experiment["tags"] == [{"key": "team", "value": "a"}]
    assert experiment["artifact_location"] == (artifact_root / experiment_id).as_uri()
    assert isinstance(experiment["creation_time"], int)
    by_name = api.ok("GET", "experiments/get-by-name", {"experiment_name": "exp"})
    assert by_name["experiment"] == experiment


def test_experiment_without_tags_omits_the_field(api: Api) -> None:
    experiment_id = api.experiment()
    experiment = api.ok("GET", "experiments/get", {"experiment_id": experiment_id})["experiment"]
    assert "tags" not in experiment


def test_duplicate_name_is_resource_already_exists(api: Api) -> None:
    api.experiment("dup")
    api.fail("POST", "experiments/create", {"name": "dup"}, 400, "RESOURCE_ALREADY_EXISTS")


def test_create_requires_a_name(api: Api) -> None:
    message = api.fail("POST", "experiments/create", {}, 400, "INVALID_PARAMETER_VALUE")
    assert "Missing value for required parameter 'name'" in message


def test_get_by_name_miss_is_404(api: Api) -> None:
    message = api.fail(
        "GET", "experiments/get-by-name", {"experiment_name": "nope"}, 404,
        "RESOURCE_DOES_NOT_EXIST",
    )  # fmt: skip
    assert "nope" in message


def test_get_unknown_and_non_integer_ids(api: Api) -> None:
    api.fail("GET", "experiments/get", {"experiment_id": "999"}, 404, "RESOURCE_DOES_NOT_EXIST")
    api.fail("GET", "experiments/get", {"experiment_id": "abc"}, 400, "INVALID_PARAMETER_VALUE")
    api.fail("GET", "experiments/get", {}, 400, "INVALID_PARAMETER_VALUE")


def test_get_by_name_returns_deleted_experiments(api: Api) -> None:
    experiment_id = api.experiment("gone")
    assert api.ok("POST", "experiments/delete", {"experiment_id": experiment_id}) == {}
    found = api.ok("GET", "experiments/get-by-name", {"experiment_name": "gone"})
    assert found["experiment"]["lifecycle_stage"] == "deleted"
    assert api.ok("POST", "experiments/restore", {"experiment_id": experiment_id}) == {}
    found = api.ok("GET", "experiments/get", {"experiment_id": experiment_id})
    assert found["experiment"]["lifecycle_stage"] == "active"


def test_delete_also_deletes_runs(api: Api) -> None:
    experiment_id = api.experiment()
    run_id = api.run(experiment_id)
    api.ok("POST", "experiments/delete", {"experiment_id": experiment_id})
    run = api.ok("GET", "runs/get", {"run_id": run_id})["run"]
    assert run["info"]["lifecycle_stage"] == "deleted"


def test_update_renames(api: Api) -> None:
    experiment_id = api.experiment("old")
    body = {"experiment_id": experiment_id, "new_name": "new"}
    assert api.ok("POST", "experiments/update", body) == {}
    found = api.ok("GET", "experiments/get", {"experiment_id": experiment_id})
    assert found["experiment"]["name"] == "new"
    api.fail("POST", "experiments/update", {"experiment_id": experiment_id}, 400,
             "INVALID_PARAMETER_VALUE")  # fmt: skip


def test_set_and_delete_experiment_tag(api: Api) -> None:
    experiment_id = api.experiment()
    body = {"experiment_id": experiment_id, "key": "k", "value": "v"}
    assert api.ok("POST", "experiments/set-experiment-tag", body) == {}
    found = api.ok("GET", "experiments/get", {"experiment_id": experiment_id})["experiment"]
    assert found["tags"] == [{"key": "k", "value": "v"}]
    body = {"experiment_id": experiment_id, "key": "k"}
    assert api.ok("POST", "experiments/delete-experiment-tag", body) == {}
    found = api.ok("GET", "experiments/get", {"experiment_id": experiment_id})["experiment"]
    assert "tags" not in found


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_search_pages_and_filters(api: Api, method: str) -> None:
    for name in ("a1", "a2", "b1"):
        api.experiment(name)
    first = api.ok(method, "experiments/search", {"max_results": 2})
    assert len(first["experiments"]) == 2
    token = first["next_page_token"]
    second = api.ok(method, "experiments/search", {"max_results": 2, "page_token": token})
    names = [e["name"] for e in first["experiments"] + second["experiments"]]
    assert sorted(names) == ["Default", "a1", "a2", "b1"]
    assert "next_page_token" not in second
    found = api.ok(
        method,
        "experiments/search",
        {"max_results": 10, "filter": "name LIKE 'a%'", "order_by": ["name DESC"]},
    )
    assert [e["name"] for e in found["experiments"]] == ["a2", "a1"]


def test_search_view_type_by_name_or_number(api: Api) -> None:
    experiment_id = api.experiment("deleted-one")
    api.ok("POST", "experiments/delete", {"experiment_id": experiment_id})
    for view_type in ("DELETED_ONLY", 2, "2"):
        found = api.ok("POST", "experiments/search", {"max_results": 5, "view_type": view_type})
        assert [e["name"] for e in found["experiments"]] == ["deleted-one"]
    active = api.ok("POST", "experiments/search", {"max_results": 5})
    assert [e["name"] for e in active["experiments"]] == ["Default"]


def test_search_with_no_hits_is_empty_object(api: Api) -> None:
    body = {"max_results": 5, "filter": "name = 'nothing'"}
    assert api.ok("POST", "experiments/search", body) == {}


@pytest.mark.parametrize("max_results", [None, 0, -1, 50001])
def test_search_requires_a_valid_max_results(api: Api, max_results: int | None) -> None:
    body = {} if max_results is None else {"max_results": max_results}
    api.fail("POST", "experiments/search", body, 400, "INVALID_PARAMETER_VALUE")


def test_search_bad_filter_is_400(api: Api) -> None:
    body = {"max_results": 5, "filter": "name = 'a' AND"}
    api.fail("POST", "experiments/search", body, 400, "INVALID_PARAMETER_VALUE")


# -- artifact locations -------------------------------------------------------------------


def test_artifact_location_inside_the_root_is_accepted(api: Api, artifact_root: Path) -> None:
    for location in (str(artifact_root / "mine"), (artifact_root / "other").as_uri()):
        name = location.rsplit("/", 1)[-1]
        experiment_id = api.ok(
            "POST", "experiments/create", {"name": name, "artifact_location": location}
        )["experiment_id"]
        found = api.ok("GET", "experiments/get", {"experiment_id": experiment_id})
        assert found["experiment"]["artifact_location"] == (artifact_root / name).as_uri()


@pytest.mark.parametrize(
    "location",
    ["/etc", "file:///etc/passwd", "s3://bucket/x", "runs:/abc/x", "../outside", "{root}/../x",
     "{root}/a/../../x", "{root}/%2e%2e/x", "{root_uri}/x?y=1", "{root_uri}/x#frag",
     "{root}-sibling", "file://otherhost{root}/x"],
)  # fmt: skip
def test_artifact_location_outside_the_root_is_refused(
    api: Api, artifact_root: Path, location: str
) -> None:
    location = location.format(root=artifact_root, root_uri=artifact_root.as_uri())
    body = {"name": "sneaky", "artifact_location": location}
    api.fail("POST", "experiments/create", body, 400, "INVALID_PARAMETER_VALUE")
    api.fail("GET", "experiments/get-by-name", {"experiment_name": "sneaky"}, 404,
             "RESOURCE_DOES_NOT_EXIST")  # fmt: skip


def test_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(InvalidParameterValue):
        check_artifact_location(str(root / "link" / "x"), root.as_uri())
    assert check_artifact_location(str(root / "x"), root.as_uri()) == (root / "x").as_uri()


def test_artifact_location_check_on_object_store_roots() -> None:
    root = "s3://bucket/mlflow"
    assert check_artifact_location("s3://bucket/mlflow/team/a", root) == "s3://bucket/mlflow/team/a"
    assert check_artifact_location("", root) is None
    assert check_artifact_location(None, root) is None
    for bad in ("s3://other/mlflow/a", "s3://bucket/mlflow2/a", "s3://bucket/mlflow/../x",
                "gs://bucket/mlflow/a", "s3://bucket/mlflow//a"):  # fmt: skip
        with pytest.raises(InvalidParameterValue):
            check_artifact_location(bad, root)
    assert check_artifact_location("mlflow-artifacts:/a/b", "mlflow-artifacts:/") == (
        "mlflow-artifacts:/a/b"
    )
