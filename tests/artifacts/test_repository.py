"""The generic download of ArtifactRepository, used by remote stores (S3, proxied)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trackline.artifacts.repository import ArtifactRepository, prepare_destination
from trackline.entities import FileInfo
from trackline.exceptions import InvalidParameterValue, ResourceDoesNotExist


class DictRepository(ArtifactRepository):
    """A remote store reduced to a dict of path -> bytes, listing whatever it is told to."""

    def __init__(self, files: dict[str, bytes], listing: dict[str, list[FileInfo]] | None = None):
        super().__init__("dict://")
        self.files = files
        self.listing = listing

    def log_artifact(
        self, local_file: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        name = Path(local_file).name
        self.files[f"{artifact_path}/{name}" if artifact_path else name] = Path(
            local_file
        ).read_bytes()

    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        for path in Path(local_dir).rglob("*"):
            if path.is_file():
                rel = path.relative_to(local_dir).as_posix()
                self.files[f"{artifact_path}/{rel}" if artifact_path else rel] = path.read_bytes()

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        prefix = artifact_path or ""
        for name in [
            n for n in self.files if n == prefix or n.startswith(f"{prefix}/") or not prefix
        ]:
            del self.files[name]

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        if self.listing is not None:
            return self.listing.get(path or "", [])
        prefix = f"{path}/" if path else ""
        children: dict[str, FileInfo] = {}
        for name, data in self.files.items():
            if not name.startswith(prefix):
                continue
            head, sep, _ = name[len(prefix) :].partition("/")
            child = prefix + head
            children[child] = FileInfo(child, True) if sep else FileInfo(child, False, len(data))
        return [children[k] for k in sorted(children)]

    def _download_file(self, remote_file_path: str, local_path: str) -> None:
        if remote_file_path not in self.files:
            raise ResourceDoesNotExist(f"No such artifact: '{remote_file_path}'")
        Path(local_path).write_bytes(self.files[remote_file_path])


def test_generic_download_of_a_folder_a_file_and_the_root(tmp_path: Path) -> None:
    repo = DictRepository({"m/MLmodel": b"flavors", "m/data/model.pkl": b"pk", "top.txt": b"t"})
    folder = repo.download_artifacts("m", str(tmp_path))
    assert folder == str(tmp_path / "m")
    assert (tmp_path / "m" / "data" / "model.pkl").read_bytes() == b"pk"
    single = repo.download_artifacts("m/MLmodel")
    assert Path(single).read_bytes() == b"flavors"
    root = Path(repo.download_artifacts(""))
    assert (root / "top.txt").read_bytes() == b"t"
    assert (root / "m" / "MLmodel").exists()


def test_generic_download_of_a_missing_file() -> None:
    with pytest.raises(ResourceDoesNotExist):
        DictRepository({}).download_artifacts("nothing")


@pytest.mark.parametrize("hostile", ["../../root/.bashrc", "m/../../x", "elsewhere/x"])
def test_a_hostile_listing_cannot_write_outside_the_destination(
    tmp_path: Path, hostile: str
) -> None:
    repo = DictRepository({hostile: b"pwned"}, listing={"m": [FileInfo(hostile, False, 5)]})
    dst = tmp_path / "dst"
    dst.mkdir()
    with pytest.raises(InvalidParameterValue):
        repo.download_artifacts("m", str(dst))
    assert list(tmp_path.rglob("*")) == [dst]


def test_every_repository_implements_delete() -> None:
    class NoDelete(ArtifactRepository):
        def log_artifact(self, local_file: object, artifact_path: str | None = None) -> None: ...
        def log_artifacts(self, local_dir: object, artifact_path: str | None = None) -> None: ...
        def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
            return []

        def _download_file(self, remote_file_path: str, local_path: str) -> None: ...

    with pytest.raises(TypeError, match="delete_artifacts"):
        NoDelete("x://")  # type: ignore[abstract]
    repo = DictRepository({"a/b.txt": b"1", "a/c.txt": b"2", "d.txt": b"3"})
    repo.delete_artifacts("a")
    assert repo.files == {"d.txt": b"3"}


def test_prepare_destination(tmp_path: Path) -> None:
    assert prepare_destination(str(tmp_path)) == tmp_path.resolve()
    fresh = prepare_destination(None)
    assert fresh.is_dir()
    assert not any(fresh.iterdir())
    (tmp_path / "f").write_text("")
    with pytest.raises(InvalidParameterValue, match="directory"):
        prepare_destination(tmp_path / "f")
    with pytest.raises(ResourceDoesNotExist):
        prepare_destination(tmp_path / "missing")
