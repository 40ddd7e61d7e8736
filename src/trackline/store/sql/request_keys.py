"""Idempotency keys of run creation: the key a client sent with ``runs/create`` and the run
that request created.

A client that lost the answer to ``runs/create`` sends the request again with the same key
(``X-Trackline-Idempotency-Key``); the store then answers with the run it already created
instead of creating a second one. The key is recorded in the run's own transaction, so a key
is never recorded without its run nor a run created by a keyed request without its key. Keys
are kept for :data:`KEY_LIFETIME_MS` (far longer than any client retries) and pruned at most
every :data:`PRUNE_INTERVAL_MS` per store.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, delete, insert, select

from trackline.exceptions import InvalidParameterValue
from trackline.store.sql.prepared import Prepared
from trackline.store.sql.schema import request_keys

__all__ = [
    "KEY_LIFETIME_MS",
    "MAX_KEY_LENGTH",
    "PRUNE_INTERVAL_MS",
    "find_run",
    "prune",
    "record",
    "validate_request_key",
]

#: How long a key is remembered (one day, in milliseconds).
KEY_LIFETIME_MS = 24 * 3600 * 1000
#: How often a store prunes expired keys (one hour, in milliseconds).
PRUNE_INTERVAL_MS = 3600 * 1000
#: The longest key accepted (a UUID is 36 characters).
MAX_KEY_LENGTH = 128

_k = request_keys.c
# Both run on every keyed run creation: compiled once, run on the driver's cursor.
_FIND = Prepared(lambda _: select(_k.run_uuid).where(_k.key == bindparam("key")), ("key",))
_INSERT = Prepared(lambda _: insert(request_keys), ("key", "run_uuid", "created_time"))
_PRUNE = delete(request_keys).where(_k.created_time < bindparam("before"))


def validate_request_key(key: object) -> str:
    """A key of 1 to 128 printable ASCII characters; 400 INVALID_PARAMETER_VALUE otherwise."""
    if (
        not isinstance(key, str)
        or not 0 < len(key) <= MAX_KEY_LENGTH
        or not all(" " < c <= "~" for c in key)
    ):
        raise InvalidParameterValue(
            f"Invalid idempotency key {str(key)[:MAX_KEY_LENGTH]!r}: expected 1 to "
            f"{MAX_KEY_LENGTH} printable ASCII characters without spaces (a UUID)."
        )
    return key


def find_run(conn: Connection, key: str) -> str | None:
    """The id of the run created by the request with this key, or None."""
    found = _FIND.fetchone(conn, (key,))
    return None if found is None else str(found[0])


def record(conn: Connection, key: str, run_id: str, now: int) -> None:
    """Record that the request with ``key`` created ``run_id``. A key recorded concurrently
    by another transaction makes this raise IntegrityError."""
    _INSERT.execute(conn, (key, run_id, now))


def prune(conn: Connection, now: int) -> int:
    """Forget keys recorded more than :data:`KEY_LIFETIME_MS` before ``now``; how many.

    Run it in a transaction of its own: a range delete in the transaction that records a key
    would make concurrent creations deadlock on MySQL's gap locks.
    """
    return int(conn.execute(_PRUNE, {"before": now - KEY_LIFETIME_MS}).rowcount)
