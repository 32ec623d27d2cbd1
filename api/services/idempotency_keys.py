"""An Idempotency-Key: claimed for one request, answered once, replayed after.

In the database (api/models/wearable.py: IdempotencyKey for a device's keys,
PersonIdempotencyKey for a person's), so every API process sees the same keys. Used by
wearable uploads and platform imports."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from api.errors import AppError, Conflict
from api.models import IdempotencyKey, PersonIdempotencyKey
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


KeyRow = IdempotencyKey | PersonIdempotencyKey


@dataclass(frozen=True)
class KeyScope:
    """Whose keys a request's key is among: a device's (the device token's), or a
    person's (an import their app sends with their own token)."""

    model: type[IdempotencyKey] | type[PersonIdempotencyKey]
    owner: uuid.UUID

    @classmethod
    def of(cls, device_id: uuid.UUID | None, user_id: uuid.UUID) -> KeyScope:
        if device_id is not None:
            return cls(IdempotencyKey, device_id)
        return cls(PersonIdempotencyKey, user_id)

    def get(self, session: Session, key: str) -> KeyRow | None:
        if self.model is IdempotencyKey:
            return session.get(IdempotencyKey, (self.owner, key))
        return session.get(PersonIdempotencyKey, (self.owner, key))

    def new(self, key: str, digest: str, now: datetime) -> KeyRow:
        fields: dict[str, Any] = {
            "key": key,
            "request_hash": digest,
            "in_flight": True,
            "created_at": now,
            "expires_at": now + IDEMPOTENCY_TTL,
        }
        if self.model is IdempotencyKey:
            return IdempotencyKey(device_id=self.owner, **fields)
        return PersonIdempotencyKey(user_id=self.owner, **fields)

    def take_over(self, session: Session, key: str, created_at: datetime, now: datetime) -> bool:
        """Move an in-flight key's lease to this request, if no other request did first."""
        m = self.model
        owner = col(
            IdempotencyKey.device_id if m is IdempotencyKey else PersonIdempotencyKey.user_id
        )
        taken = session.exec(
            update(m)
            .where(owner == self.owner, col(m.key) == key, col(m.created_at) == created_at)
            .values(created_at=now)
        )
        session.commit()
        return bool(taken.rowcount == 1)


def claim_key(session: Session, scope: KeyScope, key: str, digest: str, now: datetime) -> KeyRow:
    """Take the key for this request, or explain why not (replay, 409, 422)."""
    for _ in range(2):
        existing = scope.get(session, key)
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
                lapsed = now - existing.created_at > IN_FLIGHT_LEASE
                if lapsed and scope.take_over(session, key, existing.created_at, now):
                    session.refresh(existing)
                    return existing
                raise Conflict(
                    "A request with this Idempotency-Key is still being processed; retry "
                    "in a moment.",
                    retry_after=1,
                )
            raise Replay(existing.response_status or 201, existing.response_body)
        row = scope.new(key, digest, now)
        try:
            twin = insert_or_existing(session, row, lambda: scope.get(session, key))
        except IntegrityError:
            continue  # the twin that took the key let go of it meanwhile: try again
        if twin is None:
            # Committed at once, so a concurrent twin sees it and gets 409 or a replay.
            session.commit()
            return row
        # A concurrent twin took the key first: the next round judges its row.
    raise Conflict("A request with this Idempotency-Key is still being processed; retry.")


def release_key(session: Session, scope: KeyScope, key: str) -> None:
    """The request failed before storing anything: the key may be used again."""
    session.rollback()
    row = scope.get(session, key)
    if row is not None and row.in_flight:
        session.delete(row)
        session.commit()


def finish(session: Session, key: KeyRow, body: dict[str, Any]) -> None:
    """The answer stored with its key (a retry replays it), committed with the data."""
    key.in_flight = False
    key.response_status = 201
    key.response_body = body
    session.add(key)
    session.commit()
