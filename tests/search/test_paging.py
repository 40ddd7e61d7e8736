"""Page tokens: MLflow's base64 of {"offset": N}, and rejection of anything else."""

from __future__ import annotations

import base64
import json

import pytest

from trackline.exceptions import InvalidParameterValue
from trackline.search import decode_page_token, encode_page_token


def test_token_is_mlflows_format() -> None:
    token = encode_page_token(1000)
    assert json.loads(base64.b64decode(token)) == {"offset": 1000}


@pytest.mark.parametrize("offset", [0, 1, 99, 10**12])
def test_round_trip(offset: int) -> None:
    assert decode_page_token(encode_page_token(offset)) == offset


@pytest.mark.parametrize("token", [None, ""])
def test_missing_token_is_the_first_page(token: str | None) -> None:
    assert decode_page_token(token) == 0


def test_urlsafe_and_unpadded_tokens_are_read() -> None:
    raw = json.dumps({"offset": 62}).encode()
    assert decode_page_token(base64.urlsafe_b64encode(raw).decode().rstrip("=")) == 62


@pytest.mark.parametrize(
    "token",
    [
        "not base64!",
        base64.b64encode(b"not json").decode(),
        base64.b64encode(b"[1, 2]").decode(),
        base64.b64encode(b'{"page": 3}').decode(),
        base64.b64encode(b'{"offset": -1}').decode(),
        base64.b64encode(b'{"offset": "3"}').decode(),
        base64.b64encode(b'{"offset": 1.5}').decode(),
        base64.b64encode(b'{"offset": true}').decode(),
        base64.b64encode(b"\xff\xfe").decode(),
    ],
)
def test_bad_tokens_are_invalid_parameter_values(token: str) -> None:
    with pytest.raises(InvalidParameterValue, match="Invalid page token"):
        decode_page_token(token)


def test_non_string_token_is_rejected() -> None:
    with pytest.raises(InvalidParameterValue):
        decode_page_token(12)  # type: ignore[arg-type]


@pytest.mark.parametrize("offset", [-1, 1.5, True])
def test_encoding_a_bad_offset_is_a_programming_error(offset: object) -> None:
    with pytest.raises(ValueError, match="non-negative int"):
        encode_page_token(offset)  # type: ignore[arg-type]
