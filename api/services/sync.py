"""Delta sync for the lists an app caches: what changed since a moment, and what went.

With `?since=`, a list answers the items changed at or after that moment (their change
time at or after it) and, beside them, `deleted`: the ids of items removed from the list
since then (tombstones, kept as long as the account). Both come oldest change first, one
page at a time under one cursor, so an app resumes where a lost page left it and applies
changes and removals in the order they happened.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, delete, select
from sqlmodel.sql.expression import SelectOfScalar

from api.models import Tombstone
from api.pagination import encode_cursor, keyset_page

T = TypeVar("T")


def bury(
    session: Session, owner_id: uuid.UUID, kind: str, item_id: uuid.UUID, now: datetime
) -> None:
    """Record that `item_id` left `owner_id`'s list of `kind` (in the caller's transaction)."""
    session.add(Tombstone(user_id=owner_id, kind=kind, item_id=item_id, deleted_at=now))


def unbury(session: Session, owner_id: uuid.UUID, kind: str, item_id: uuid.UUID) -> None:
    """Forget that `item_id` left the list: it is back under the same id."""
    session.exec(
        delete(Tombstone).where(
            col(Tombstone.user_id) == owner_id,
            col(Tombstone.kind) == kind,
            col(Tombstone.item_id) == item_id,
        )
    )


def changed_page(
    session: Session,
    stmt: SelectOfScalar[T],
    *,
    time_col: Any,
    id_col: Any,
    owner_id: uuid.UUID,
    kind: str,
    since: datetime,
    limit: int,
    cursor: str | None,
    changed: ColumnElement[bool] | None = None,
) -> tuple[list[T], list[Tombstone], str | None]:
    """One page of `stmt`'s rows changed at or after `since` (by `time_col`, or by the
    `changed` condition when what a row shows changes elsewhere too) merged with the
    tombstones of `kind` laid since, in (time, id) order, and the next page's cursor."""
    live, live_more = keyset_page(
        session,
        stmt.where(changed if changed is not None else time_col >= since),
        time_col=time_col,
        id_col=id_col,
        limit=limit,
        cursor=cursor,
    )
    gone, gone_more = keyset_page(
        session,
        select(Tombstone).where(
            Tombstone.user_id == owner_id,
            Tombstone.kind == kind,
            col(Tombstone.deleted_at) >= since,
        ),
        time_col=Tombstone.deleted_at,
        id_col=Tombstone.id,
        limit=limit,
        cursor=cursor,
    )
    merged: list[tuple[datetime, uuid.UUID, T | Tombstone]] = [
        *((getattr(row, time_col.key), getattr(row, id_col.key), row) for row in live),
        *((t.deleted_at, t.id, t) for t in gone),
    ]
    merged.sort(key=lambda m: (m[0], m[1]))
    page = merged[:limit]
    next_cursor = None
    if len(merged) > limit or live_more or gone_more:
        # Either stream may hold more; each resumes after the last (time, id) shown.
        next_cursor = encode_cursor(page[-1][0], page[-1][1])
    rows = [m[2] for m in page if not isinstance(m[2], Tombstone)]
    tombs = [m[2] for m in page if isinstance(m[2], Tombstone)]
    return rows, tombs, next_cursor
