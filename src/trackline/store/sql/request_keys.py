"""Idempotency keys of creations: the key a client sent with a create request, what kind of
entity that request created and the entity's id.

A client that lost the answer to ``runs/create``, ``POST logged-models`` or
``model-versions/create`` sends the request again with the same key
(``X-Trackline-Idempotency-Key``); the store then answers with the entity it already created
instead of creating a second one. :meth:`KeyedCreates.create_once` records the key in the
entity's own transaction, so a key is never recorded without its entity nor an entity created
by a keyed request without its key. A key belongs to one kind of entity: sent again for
another kind it is refused (400). Keys are kept for :data:`KEY_LIFETIME_MS` (far longer than
any client retries) and pruned at most every :data:`PRUNE_INTERVAL_MS` per store.

The key holds no foreign key to its entity (entities of three kinds, and keys expire anyway):
a repeat whose entity is gone is answered as the store answers for a missing entity.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Connection, bindparam, delete, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from trackline.exceptions import InvalidParameterValue
from trackline.store.sql.engine import Database
from trackline.store.sql.prepared import Prepared
from trackline.store.sql.schema import request_keys

__all__ = [
    "KEY_LIFETIME_MS",
    "KINDS",
    "LOGGED_MODEL",
    "MAX_KEY_LENGTH",
    "MODEL_VERSION",
    "PRUNE_INTERVAL_MS",
    "RUN",
    "KeyedCreates",
    "Repeat",
    "find",
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

#: The kinds of entity a key can create (``request_keys.kind``).
RUN = "run"
LOGGED_MODEL = "logged_model"
MODEL_VERSION = "model_version"
KINDS = (RUN, LOGGED_MODEL, MODEL_VERSION)
_KIND_NAMES = {RUN: "a run", LOGGED_MODEL: "a logged model", MODEL_VERSION: "a model version"}

_k = request_keys.c
# Both run on every keyed creation: compiled once, run on the driver's cursor.
_FIND = Prepared(
    lambda _: select(_k.kind, _k.entity_id).where(_k.key == bindparam("key")), ("key",)
)
_INSERT = Prepared(lambda _: insert(request_keys), ("key", "kind", "entity_id", "created_time"))
_PRUNE = delete(request_keys).where(_k.created_time < bindparam("before"))

_logger = logging.getLogger(__name__)
T = TypeVar("T")


def _now() -> int:
    return time.time_ns() // 1_000_000


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


def find(conn: Connection, key: str, kind: str) -> str | None:
    """The id of the entity of ``kind`` created by the request with this key, or None; 400
    INVALID_PARAMETER_VALUE when the key created an entity of another kind."""
    found = _FIND.fetchone(conn, (key,))
    if found is None:
        return None
    if found[0] != kind:
        raise InvalidParameterValue(
            f"The idempotency key {key!r} was already used to create "
            f"{_KIND_NAMES.get(str(found[0]), str(found[0]))}; send a new key for a new request."
        )
    return str(found[1])


def record(conn: Connection, key: str, kind: str, entity_id: str, now: int) -> None:
    """Record that the request with ``key`` created the entity ``entity_id`` of ``kind``. A
    key recorded concurrently by another transaction makes this raise IntegrityError."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of keyed entity {kind!r}")
    _INSERT.execute(conn, (key, kind, entity_id, now))


def prune(conn: Connection, now: int) -> int:
    """Forget keys recorded more than :data:`KEY_LIFETIME_MS` before ``now``; how many.

    Run it in a transaction of its own: a range delete in the transaction that records a key
    would make concurrent creations deadlock on MySQL's gap locks.
    """
    return int(conn.execute(_PRUNE, {"before": now - KEY_LIFETIME_MS}).rowcount)


@dataclass(frozen=True)
class Repeat:
    """The answer of :meth:`KeyedCreates.create_once` to a key seen before: the id of the
    entity the key's first request created."""

    entity_id: str


class KeyedCreates:
    """Creations made once per idempotency key on one database, and the pruning of old keys
    (one per store)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._next_prune = 0

    def create_once(
        self,
        key: str | None,
        kind: str,
        create: Callable[[Connection], tuple[T, str]],
    ) -> T | Repeat:
        """Run ``create(conn)`` in a write transaction and record ``key`` for the entity id it
        returns (with its entity), unless the key was seen before: then :class:`Repeat`.

        Without a key this is a plain write transaction. The key was validated by the caller
        (:func:`validate_request_key`). An IntegrityError of ``create`` or of a concurrent
        request with the same key that committed first turns into :class:`Repeat` when the
        key is now recorded, and propagates otherwise (the caller may retry).
        """
        try:
            with self.db.write() as conn:
                earlier = None if key is None else find(conn, key, kind)
                if earlier is None:
                    created, entity_id = create(conn)
                    if key is not None:
                        record(conn, key, kind, entity_id, _now())
        except IntegrityError:
            if key is None:
                raise
            with self.db.read() as conn:  # another call with this key may have won the race
                earlier = find(conn, key, kind)
            if earlier is None:
                raise
        if key is not None:
            self.prune_now_and_then()
        return created if earlier is None else Repeat(earlier)

    def prune_now_and_then(self) -> None:
        """Forget expired keys, at most once per :data:`PRUNE_INTERVAL_MS` (best effort)."""
        now = _now()
        if now < self._next_prune:
            return
        self._next_prune = now + PRUNE_INTERVAL_MS
        try:
            with self.db.write() as conn:
                prune(conn, now)
        except DBAPIError as exc:  # best effort: the next prune catches up
            _logger.debug("pruning idempotency keys failed: %s", exc)
