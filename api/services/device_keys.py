"""A device's Idempotency-Key: claimed for one request, answered once, replayed after.

In the database (api/models/wearable.py, IdempotencyKey), so every API process sees the
same keys. Used by wearable uploads and platform imports."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from api.errors import AppError, Conflict
from api.models import IdempotencyKey
from api.services.store import insert_or_existing

# Stripe and the IETF Idempotency-Key draft: keys live at least a day.
IDEMPOTENCY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# A request that died mid-way (process killed) must not block its key for a day: after
# this long an in-flight key may be taken over by a retry of the same request.
IN_FLIGHT_LEASE = timedelta(seconds=60)


class IdempotencyKeyReused(AppError):
    status, slug = 422, "idempotency-key-reused"


class Replay(Exception):
    """The key was used before for the same request: answer as the first time."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def claim_key(
    session: Session, device_id: uuid.UUID, key: str, digest: str, now: datetime
) -> IdempotencyKey:
    """Take the key for this request, or explain why not (replay, 409, 422)."""
    for _ in range(2):
        existing = session.get(IdempotencyKey, (device_id, key))
        if existing is not None and existing.expires_at <= now:
            session.delete(existing)
            session.commit()
            existing = None
        if existing is not None:
            if existing.request_hash != digest:
                raise IdempotencyKeyReused(
                    "This Idempotency-Key was used with a different body; use a new key for "
                    "new data."
                )
            if existing.in_flight or existing.response_body is None:
                if now - existing.created_at > IN_FLIGHT_LEASE:
                    taken = session.exec(
                        update(IdempotencyKey)
                        .where(
                            col(IdempotencyKey.device_id) == device_id,
                            col(IdempotencyKey.key) == key,
                            col(IdempotencyKey.created_at) == existing.created_at,
                        )
                        .values(created_at=now)
                    )
                    session.commit()
                    if taken.rowcount == 1:
                        session.refresh(existing)
                        return existing
                raise Conflict(
                    "A request with this Idempotency-Key is still being processed; retry "
                    "in a moment.",
                    retry_after=1,
                )
            raise Replay(existing.response_status or 201, existing.response_body)
        row = IdempotencyKey(
            device_id=device_id,
            key=key,
            request_hash=digest,
            in_flight=True,
            created_at=now,
            expires_at=now + IDEMPOTENCY_TTL,
        )
        try:
            twin = insert_or_existing(
                session, row, lambda: session.get(IdempotencyKey, (device_id, key))
            )
        except IntegrityError:
            continue  # the twin that took the key let go of it meanwhile: try again
        if twin is None:
            # Committed at once, so a concurrent twin sees it and gets 409 or a replay.
            session.commit()
            return row
        # A concurrent twin took the key first: the next round judges its row.
    raise Conflict("A request with this Idempotency-Key is still being processed; retry.")


def release_key(session: Session, device_id: uuid.UUID, key: str) -> None:
    """The request failed before storing anything: the key may be used again."""
    session.rollback()
    row = session.get(IdempotencyKey, (device_id, key))
    if row is not None and row.in_flight:
        session.delete(row)
        session.commit()


def finish(session: Session, key: IdempotencyKey, body: dict[str, Any]) -> None:
    """The answer stored with its key (a retry replays it), committed with the data."""
    key.in_flight = False
    key.response_status = 201
    key.response_body = body
    session.add(key)
    session.commit()
