"""The check of a model version's ``source`` (trackline.store.model_source) and the SQL
registry store refusing unsafe sources without changing anything: local files outside the
run's artifacts (CVE-2023-1177), metadata endpoints (CVE-2023-6974), traversal hidden behind
percent-encoding, NUL, and ``runs:/``/``models:/`` sources of another run or model."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.store.registry_helpers import fails

from trackline.entities import Run
from trackline.exceptions import INVALID_PARAMETER_VALUE, InvalidParameterValue
from trackline.store.model_source import (
    ModelsUri,
    check_model_source,
    parse_models_uri,
    parse_source,
)
from trackline.store.sql.registry import SqlRegistryStore
from trackline.store.sql.tracking import SqlTrackingStore

RUN = "0123456789abcdef0123456789abcdef"
RUN_DIR = "/srv/mlruns/1/0123456789abcdef0123456789abcdef/artifacts"
ROOTS = ["/srv/mlruns", "s3://bucket/artifacts", "https://store.example/artifacts"]

# Unsafe at any decoding depth, whatever run, model or root they come with.
TRAVERSAL = [
    "../etc/passwd",
    "..%2fetc%2fpasswd",
    "%2e%2e/etc/passwd",
    "%2e%2e%2fetc%2fpasswd",
    "%252e%252e%252fetc",
    "%25252e%25252e%25252f",
    "..%252f..%252fetc",
    "..%5c..%5cwindows\\win.ini",
    "..\\..\\windows\\win.ini",
    ".%2e/.%2e/etc",
    "%c0%ae%c0%ae/etc",
    "\uff0e\uff0e/etc",
    "..;/..;/etc/passwd",
    "a;/../../etc",
    "a#/../../etc",
    "a?x=/../../etc",
    "a/%00/b",
    "a%00.txt",
    "./../x",
    "a/b/../../..",
    f"{RUN_DIR}/../../../../etc/passwd",
    f"{RUN_DIR}/%2e%2e/%2e%2e/x",
    f"file://{RUN_DIR}/model/../../..",
    f"file://{RUN_DIR}/model%00",
    "file://./etc",
    "http:///#/../../etc/",
    "http:///?/../../etc/",
    "mlflow-artifacts://h/../../",
    "mlflow-artifacts:/1/..%2f..%2f..%2f",
    "s3://bucket/artifacts/../../other",
    "models:/m/1/../../x",
    f"runs:/{RUN}/../x",
    "https://store.example/artifacts/a/%2e%2e/%2e%2e/etc",
]

# Well-formed, but outside what the run (RUN_DIR), its model and the roots allow.
OUTSIDE = [
    "file:///etc/passwd",
    "file:///etc/",
    "file:/etc",
    "file://localhost/etc",
    "/etc/passwd",
    "//etc/passwd",
    "///etc/passwd",
    "//proc/self/cwd/",
    "~/.ssh/id_rsa",
    "C:\\Windows\\win.ini",
    "C:/Windows/win.ini",
    "http://169.254.169.254/latest/meta-data",
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/x",
    "http://[::1]/x",
    "https://store.example/other",
    "https://store.example.evil/artifacts/x",
    "http://store.example/artifacts/x",
    "s3://other-bucket/model",
    "s3://bucket/artifactsX/model",
    "gs://bucket/artifacts/model",
    "mlflow-artifacts:/2/other/artifacts/model",
    "mlflow-artifacts://evil.example/1/0123456789abcdef0123456789abcdef/artifacts/model",
    f"{RUN_DIR}x/model",
    "runs:/ffffffffffffffffffffffffffffffff/model",
    "runs://host/x",
    "models:/m-other",
]


def check(source: str, **kwargs: object) -> None:
    arguments: dict[str, object] = {
        "run_id": RUN,
        "run_artifact_uri": RUN_DIR,
        "artifact_roots": ROOTS,
        "experiment_roots": ["mlflow-artifacts:/1"],
    }
    arguments.update(kwargs)
    check_model_source(source, **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("source", TRAVERSAL + OUTSIDE)
def test_unsafe_sources_are_refused(source: str) -> None:
    with pytest.raises(InvalidParameterValue, match="Invalid model version source"):
        check(source)


@pytest.mark.parametrize("source", TRAVERSAL)
def test_traversal_is_refused_even_inside_a_root(source: str) -> None:
    with pytest.raises(InvalidParameterValue):
        check(source, artifact_roots=["/", "file:///", "s3://bucket", "mlflow-artifacts:/"])


@pytest.mark.parametrize(
    "source",
    [
        f"runs:/{RUN}/model",
        f"runs:/{RUN}",
        f"{RUN_DIR}/model",
        f"file://{RUN_DIR}/model",
        f"file://localhost{RUN_DIR}/model",
        f"file://{RUN_DIR}/my%20model",
        "mlflow-artifacts:/1/0123456789abcdef0123456789abcdef/artifacts/model",
        "mlflow-artifacts:/1/models/m-123/artifacts",
        "s3://bucket/artifacts/1/model",
        "https://store.example/artifacts/1/model",
        "models:/registered/1",
        "models:/registered/Production",
        "models:/registered@champion",
    ],
)
def test_sources_inside_the_run_or_a_root_are_accepted(source: str) -> None:
    check(source)


def test_local_sources_need_the_run_or_a_configured_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "x").mkdir(parents=True)
    inside = str(root / "x" / "model")
    check_model_source(inside, artifact_roots=[str(root)])
    check_model_source(root.as_uri() + "/x/model", artifact_roots=[root.as_uri()])
    with pytest.raises(InvalidParameterValue, match="configured artifact root"):
        check_model_source(inside, artifact_roots=[])
    # With a run, only that run's artifacts count, not the whole root.
    with pytest.raises(InvalidParameterValue, match="artifact directory of the run"):
        check_model_source(
            inside,
            run_id=RUN,
            run_artifact_uri=str(root / "other"),
            artifact_roots=[str(root)],
        )


def test_a_symlink_out_of_the_run_directory_is_refused(tmp_path: Path) -> None:
    run_dir = tmp_path / "run" / "artifacts"
    run_dir.mkdir(parents=True)
    os.symlink("/etc", run_dir / "link")
    with pytest.raises(InvalidParameterValue):
        check_model_source(
            str(run_dir / "link" / "passwd"), run_id=RUN, run_artifact_uri=str(run_dir)
        )
    check_model_source(str(run_dir / "model"), run_id=RUN, run_artifact_uri=str(run_dir))


def test_runs_and_logged_model_sources_must_match_the_ids() -> None:
    check_model_source(f"runs:/{RUN}/m", run_id=RUN)
    with pytest.raises(InvalidParameterValue, match="run_id"):
        check_model_source(f"runs:/{RUN}/m")
    with pytest.raises(InvalidParameterValue, match="run_id"):
        check_model_source(f"runs:/{RUN}/m", run_id="other")
    check_model_source("models:/m-1", model_id="m-1")
    with pytest.raises(InvalidParameterValue, match="model_id"):
        check_model_source("models:/m-1")
    with pytest.raises(InvalidParameterValue, match="model_id"):
        check_model_source("models:/m-1", model_id="m-2")


def test_http_sources_need_a_configured_root_even_under_the_run() -> None:
    run_uri = "http://169.254.169.254/x/run/artifacts"
    with pytest.raises(InvalidParameterValue, match="configured artifact root"):
        check_model_source(f"{run_uri}/model", run_id=RUN, run_artifact_uri=run_uri)


def test_sources_may_lie_under_an_experiment() -> None:
    check_model_source(
        "mlflow-artifacts:/3/abc/artifacts/m", experiment_roots=["mlflow-artifacts:/3"]
    )
    with pytest.raises(InvalidParameterValue, match="experiment"):
        check_model_source(
            "mlflow-artifacts:/3/abc/artifacts/m", experiment_roots=["mlflow-artifacts:/4"]
        )
    check_model_source("s3://b/3/m", experiment_roots=["s3://b/3"])
    check_model_source("/data/exp/3/m", experiment_roots=["/data/exp"])
    # http(s) sources need a configured root: an experiment's location does not vouch.
    with pytest.raises(InvalidParameterValue, match="configured artifact root"):
        check_model_source("https://h/3/m", experiment_roots=["https://h/3"])


@pytest.mark.parametrize("source", ["", "   ", None, 5, "x" * 5000])
def test_missing_or_oversized_sources(source: object) -> None:
    with pytest.raises(InvalidParameterValue):
        parse_source(source)


def test_parse_models_uri() -> None:
    assert parse_models_uri("models:/m-abc") == ModelsUri(model_id="m-abc")
    assert parse_models_uri("models:/name/3") == ModelsUri(name="name", version="3")
    assert parse_models_uri("models:/name/Latest") == ModelsUri(name="name", latest=True)
    assert parse_models_uri("models:/name/staging") == ModelsUri(name="name", stage="staging")
    assert parse_models_uri("models:/name@a") == ModelsUri(name="name", alias="a")
    for bad in ("models:/", "models:/a/b/c", "models:/a/", "models://h/a/1", "models:/@a",
                "models:/a@", "runs:/x"):  # fmt: skip
        with pytest.raises(InvalidParameterValue):
            parse_models_uri(bad)


# -- the store -------------------------------------------------------------------------------


@pytest.fixture
def stores(db_uri: str, tmp_path: Path) -> Iterator[tuple[SqlTrackingStore, SqlRegistryStore]]:
    tracking = SqlTrackingStore(db_uri, str(tmp_path / "mlruns"))
    registry = SqlRegistryStore(
        db_uri,
        tracking.default_artifact_root,
        ["https://store.example/artifacts"],
        database=tracking.db,
    )
    yield tracking, registry
    tracking.close()


def test_the_store_refuses_unsafe_sources_and_changes_nothing(
    stores: tuple[SqlTrackingStore, SqlRegistryStore],
) -> None:
    tracking, registry = stores
    run: Run = tracking.create_run("0", "u", 1, [], "r")
    other = tracking.create_run("0", "u", 1, [], "other")
    registry.create_registered_model("m")
    artifacts = run.info.artifact_uri
    payloads = [
        "file:///etc/passwd",
        "/etc/passwd",
        "http://169.254.169.254/latest/meta-data",
        f"{artifacts}/../../../../etc",
        f"{artifacts}/%2e%2e/%2e%2e/x",
        f"{artifacts}/model%00",
        f"runs:/{other.info.run_id}/model",
        f"{other.info.artifact_uri}/model",
        "models:/m-not-a-model",
    ]
    for source in payloads:
        fails(
            INVALID_PARAMETER_VALUE,
            lambda source=source: registry.create_model_version("m", source, run.info.run_id),
            registry,
        )
    fails(
        INVALID_PARAMETER_VALUE,
        lambda: registry.create_model_version("m", "models:/m-1", model_id="m-1"),
        registry,
    )
    # What the run owns, and what lies in a configured root, is accepted.
    ok = [
        f"{artifacts}/model",
        f"runs:/{run.info.run_id}/model",
        "https://store.example/artifacts/7/model",
    ]
    for number, source in enumerate(ok, start=1):
        version = registry.create_model_version("m", source, run.info.run_id)
        assert (version.version, version.source) == (str(number), source)
    # Without a run, a local source must lie in the default artifact root.
    root = tracking.default_artifact_root
    assert registry.create_model_version("m", f"{root}/shared/model").version == "4"


def test_the_store_trusts_experiment_locations_for_proxied_artifacts(
    stores: tuple[SqlTrackingStore, SqlRegistryStore],
) -> None:
    tracking, registry = stores
    experiment = tracking.create_experiment("proxied", artifact_location="mlflow-artifacts:/5")
    run = tracking.create_run(experiment, "u", 1, [], "r")
    registry.create_registered_model("m")
    inside = f"{run.info.artifact_uri}/model"
    assert inside.startswith("mlflow-artifacts:/5/")
    assert registry.create_model_version("m", inside, run.info.run_id).source == inside
    assert registry.create_model_version("m", "mlflow-artifacts:/5/x/model").version == "2"
    fails(
        INVALID_PARAMETER_VALUE,
        lambda: registry.create_model_version("m", "mlflow-artifacts:/6/x/model"),
        registry,
    )


def test_the_store_trusts_experiment_locations_for_plain_paths(
    stores: tuple[SqlTrackingStore, SqlRegistryStore], tmp_path: Path
) -> None:
    tracking, registry = stores
    elsewhere = tmp_path / "elsewhere"
    tracking.create_experiment("custom", artifact_location=str(elsewhere))
    registry.create_registered_model("m")
    inside = str(elsewhere / "abc" / "artifacts" / "model")
    assert registry.create_model_version("m", inside).source == inside
    fails(
        INVALID_PARAMETER_VALUE,
        lambda: registry.create_model_version("m", str(tmp_path / "other" / "model")),
        registry,
    )
