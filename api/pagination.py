"""Keyset pagination over (time, id): stable pages that stay fast as tables grow."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from api.errors import FieldError
from api.schemas.types import EARLIEST, LATEST

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def encode_cursor(at: datetime, ident: uuid.UUID | int) -> str:
    raw = json.dumps([at.isoformat(), str(ident)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, ident = json.loads(base64.urlsafe_b64decode(padded))
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:  # every cursor this API makes carries its offset
            raise ValueError("a cursor's time without an offset")
        # Compared, never converted: storing a moment near the calendar's ends in UTC
        # would overflow (a 500), and no cursor this API makes is out there.
        if not EARLIEST <= moment < LATEST:
            raise ValueError("a cursor's time out of range")
        return moment, str(ident)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise FieldError(
            [("cursor", "not a cursor returned by this API", "invalid_cursor")], where="query"
        ) from exc


def keyset_page(
    session: Session,
    stmt: SelectOfScalar[T],
    *,
    time_col: Any,
    id_col: Any,
    limit: int,
    cursor: str | None,
    descending: bool = False,
    id_type: type[uuid.UUID] | type[int] = uuid.UUID,
) -> tuple[list[T], str | None]:
    """One page of `stmt` ordered by (time_col, id_col), and the cursor for the next."""
    if cursor is not None:
        at, raw_id = decode_cursor(cursor)
        try:
            ident = id_type(raw_id)
        except ValueError as exc:
            raise FieldError(
                [("cursor", "not a cursor returned by this API", "invalid_cursor")], where="query"
            ) from exc
        after: ColumnElement[bool]
        if descending:
            after = or_(time_col < at, and_(time_col == at, id_col < ident))
        else:
            after = or_(time_col > at, and_(time_col == at, id_col > ident))
        stmt = stmt.where(after)
    order = (time_col.desc(), id_col.desc()) if descending else (time_col, id_col)
    rows = list(session.exec(stmt.order_by(*order).limit(limit + 1)).all())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor(getattr(last, time_col.key), getattr(last, id_col.key))
