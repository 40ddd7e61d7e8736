"""Page tokens: base64 of ``{"offset": N}``, as MLflow makes them (clients treat them as opaque)."""

from __future__ import annotations

import base64
import binascii
import json

from trackline.exceptions import InvalidParameterValue

__all__ = ["decode_page_token", "encode_page_token"]


def encode_page_token(offset: int) -> str:
    """The token of the page that starts at row ``offset``."""
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"a page offset is a non-negative int, not {offset!r}")
    return base64.b64encode(json.dumps({"offset": offset}).encode("utf-8")).decode("ascii")


def decode_page_token(token: str | None) -> int:
    """The offset a page token stands for; 0 for None or ``""`` (the first page).

    Raises :class:`~trackline.exceptions.InvalidParameterValue` for anything that is not a
    token made by :func:`encode_page_token` (standard or URL-safe base64 both read).
    """
    if token is None or token == "":
        return 0
    if not isinstance(token, str):
        raise InvalidParameterValue(f"Invalid page token {token!r}: not a string")
    try:
        padded = token + "=" * (-len(token) % 4)
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        data = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidParameterValue(
            f"Invalid page token {token!r}: not a base64-encoded JSON object"
        ) from None
    offset = data.get("offset") if isinstance(data, dict) else None
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidParameterValue(
            f"Invalid page token {token!r}: it has no non-negative integer offset"
        )
    return offset
