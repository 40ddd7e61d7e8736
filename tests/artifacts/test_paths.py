"""The one artifact path check: traversal payloads are refused, ordinary paths normalized."""

from __future__ import annotations

import ntpath
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trackline.artifacts.paths import MAX_ARTIFACT_PATH_LENGTH, check_artifact_path
from trackline.exceptions import INVALID_PARAMETER_VALUE, InvalidParameterValue

# The payload list of the security reference (section 4.2), as relative artifact paths.
TRAVERSALS = [
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
    "%u2215etc",
    "a\u2215..\u2215b",
    "\uff0e\uff0e/etc",
    "..;/..;/etc/passwd",
    "a;/../../etc",
    "a#/../../etc",
    "a?x=/../../etc",
    "/etc/passwd",
    "//etc/passwd",
    "///etc/passwd",
    "file:///etc/passwd",
    "file://localhost/etc",
    "file:/etc",
    "C:\\Windows\\win.ini",
    "C:/Windows/win.ini",
    "\\\\?\\C:\\x",
    "\\\\host\\share",
    "~/.ssh/id_rsa",
    "a/%00/b",
    "a%00.txt",
    "a/\x00/b",
    "./../x",
    "a/b/../../..",
    "a/b/..",
    "a//../b",
    "a/%2e/b",
    "x" * (MAX_ARTIFACT_PATH_LENGTH + 1),
    "a/" + "y" * 256,
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_payloads_are_rejected(path: str) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        check_artifact_path(path)
    assert info.value.error_code == INVALID_PARAMETER_VALUE


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (None, ""),
        ("", ""),
        (".", ""),
        ("model", "model"),
        ("models_pickle/lin_reg.bin", "models_pickle/lin_reg.bin"),
        ("./a/./b/", "a/b"),
        ("dir/", "dir"),
        ("report 2024-01-01T10:00:00.png", "report 2024-01-01T10:00:00.png"),
        ("a%20b.txt", "a%20b.txt"),  # checked decoded, returned as given
        ("....", "...."),
        ("caf\u00e9/\u00fcber.txt", "caf\u00e9/\u00fcber.txt"),
    ],
)
def test_ordinary_paths_are_normalized(path: str | None, expected: str) -> None:
    assert check_artifact_path(path) == expected


def test_non_string_is_rejected() -> None:
    with pytest.raises(InvalidParameterValue, match="must be a string"):
        check_artifact_path(42)  # type: ignore[arg-type]


ALPHABET = ["a", "/", "\\", ".", "%", "2", "e", "f", "5", "c", "#", "?", ";", ":", "~", "\x00"]
ALPHABET += ["\u2215", "\uff0e"]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(ALPHABET), max_size=24).map("".join))
def test_accepted_paths_stay_inside_the_root(path: str) -> None:
    try:
        rel = check_artifact_path(path)
    except InvalidParameterValue:
        return
    root = Path("/srv/artifacts-root")
    joined = os.path.normpath(os.path.join(root, rel))
    assert joined == str(root) or joined.startswith(str(root) + os.sep)
    windows = ntpath.normpath(rel)
    assert not ntpath.isabs(windows)
    assert ".." not in windows.split("\\")
    assert not ntpath.splitdrive(windows)[0]
