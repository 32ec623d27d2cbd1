"""Storing what clients send exactly once: replay digests and insert-or-replay.

Clients retry (offline sync, lost responses), so every write that carries a client
id or an Idempotency-Key is stored once; a retry gets back what the first try stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic_core import to_json
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

T = TypeVar("T")


def _in_utc(python: Any, as_json: Any) -> Any:
    """The JSON form of a value, with every date-time given in UTC."""
    if isinstance(python, datetime):
        return python.astimezone(UTC).isoformat()
    if isinstance(python, dict) and isinstance(as_json, dict):
        return {k: _in_utc(python[k], v) for k, v in as_json.items()}
    if isinstance(python, list | tuple) and isinstance(as_json, list):
        return [_in_utc(p, j) for p, j in zip(python, as_json, strict=True)]
    return as_json


def body_digest(body: BaseModel, *, exclude: Iterable[str] | dict[Any, Any] = ()) -> str:
    """A digest of a request body for telling a retry from new data: the same instant
    written with another offset is the same body (every date-time is taken in UTC).
    `exclude` as pydantic takes it: names, or a dict for nested fields."""
    skip: Any = exclude if isinstance(exclude, dict) else set(exclude)
    data = _in_utc(body.model_dump(exclude=skip), body.model_dump(mode="json", exclude=skip))
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def bulk_body_digest(body: BaseModel, *, exclude: Iterable[str] = ()) -> str:
    """`body_digest` for bodies of thousands of readings (a wearable upload): the same
    promise, kept in pydantic-core instead of a Python walk (3,600 heart-rate samples:
    about 3 ms, as fast as model_dump_json; body_digest takes 7 times that). Each
    date-time is written as seconds since the epoch, exact to the microsecond whatever
    its offset; keys stay in the model's field order. Its digests are not body_digest's:
    a kind of record keeps to one of the two."""
    data = body.model_dump(exclude=set(exclude))
    return hashlib.sha256(to_json(data, temporal_mode="seconds")).hexdigest()


def insert_ignoring_duplicates(session: Session, table: Any, rows: list[dict[str, Any]]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING; returns how many rows went in.

    Concurrent requests for one person (a retry racing its original) may try the same
    insert; the loser learns it from the count instead of failing with an integrity error.
    """
    if not rows:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        stmt: Any = pg_insert(table).values(rows).on_conflict_do_nothing()
    else:
        stmt = sqlite_insert(table).values(rows).on_conflict_do_nothing()
    result = session.exec(stmt)
    return int(result.rowcount)


def insert_or_existing(session: Session, row: Any, existing: Callable[[], T | None]) -> T | None:
    """Add and flush `row`; None when it went in. If the same client id arrived twice at
    once, the other request stored it: roll back and return what it stored."""
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        stored = existing()
        if stored is None:
            raise
        return stored
    return None
