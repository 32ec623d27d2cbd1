"""A person's devices (watches, phones): paired with a token shown once, listed,
revoked, and recognised by that token on each upload."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from api.errors import ClientIdReused, NotFound
from api.models import Device, Tombstone, TrainingSession, User, WearableUpload
from api.pagination import keyset_page
from api.security import (
    DEVICE_TOKEN_PREFIX,
    DISPLAY_PREFIX_LENGTH,
    derived_token,
    new_opaque_token,
    token_digest,
)
from api.services import sync
from api.services.store import insert_or_existing

# Writing last_used_at on every upload would turn reads into writes; this is enough.
DEVICE_SEEN_GRANULARITY = timedelta(minutes=5)


# How long after registering a retry still gets the token: long enough for a lost
# response, short enough that a stolen access token cannot fetch a device's token later.
RETRY_WINDOW = timedelta(minutes=5)


def _token_for(secret: str, user_id: uuid.UUID, device_id: uuid.UUID, made: datetime) -> str:
    """A client-id device's token, worked out again for a retry. Its creation instant (to
    the microsecond, as both databases keep it) is part of it, so registering the id
    again after the device was revoked gives a new token: a revoked one never returns."""
    seed = f"{user_id}:{device_id}:{made.astimezone(UTC).isoformat()}"
    return derived_token(DEVICE_TOKEN_PREFIX, secret, "device", seed)


def create_device(
    session: Session,
    user: User,
    name: str,
    now: datetime,
    *,
    client_id: uuid.UUID | None = None,
    secret: str,
) -> tuple[Device, str, bool]:
    """Register a device. Returns (device, its token, newly created): with a client id
    that is already this device (same owner and name), the stored one and its token."""
    if client_id is not None:
        existing = session.get(Device, client_id)
        if existing is not None:
            return _registered(session, existing, user, name, secret, now)
        token = _token_for(secret, user.id, client_id, now)
    else:
        token = new_opaque_token(DEVICE_TOKEN_PREFIX)
    device = Device(
        user_id=user.id,
        name=name,
        token_hash=token_digest(token),
        token_prefix=token[:DISPLAY_PREFIX_LENGTH],
        created_at=now,
        updated_at=now,
    )
    if client_id is not None:
        device.id = client_id
    # The same registration twice at once: the other request stored it.
    stored = insert_or_existing(session, device, lambda: session.get(Device, client_id))
    if stored is not None:
        return _registered(session, stored, user, name, secret, now)
    if client_id is not None:
        # An id registered again after its device was revoked is live again: a page of
        # `?since=` must not list it both in `items` and in `deleted`.
        sync.unbury(session, user.id, "device", client_id)
    session.commit()
    return device, token, True


def _registered(
    session: Session, device: Device, user: User, name: str, secret: str, now: datetime
) -> tuple[Device, str, bool]:
    if device.user_id != user.id or device.name != name:
        raise ClientIdReused("This device id is already used by another device; generate a new id.")
    token = _token_for(secret, user.id, device.id, device.created_at)
    if now - device.created_at > RETRY_WINDOW or token_digest(token) != device.token_hash:
        # Too late for a retry, made without this id, or under another secret key: the
        # token is shown once, and that was it.
        raise ClientIdReused(
            "This device was registered earlier and its token cannot be shown again; "
            "revoke it and register it anew."
        )
    session.rollback()  # nothing written
    return device, token, False


def list_devices(
    session: Session, user: User, *, since: datetime | None, limit: int, cursor: str | None
) -> tuple[list[Device], list[Tombstone], str | None]:
    """The person's devices, oldest first; with `since`, those changed since (by
    `updated_at`) and the ids of those revoked since (sync.changed_page)."""
    mine = select(Device).where(Device.user_id == user.id)
    if since is not None:
        return sync.changed_page(
            session, mine, time_col=Device.updated_at, id_col=Device.id, owner_id=user.id,
            kind="device", since=since, limit=limit, cursor=cursor,
        )  # fmt: skip
    rows, next_cursor = keyset_page(
        session, mine, time_col=Device.created_at, id_col=Device.id, limit=limit, cursor=cursor
    )
    return rows, [], next_cursor


def delete_device(session: Session, user: User, device_id: uuid.UUID, now: datetime) -> None:
    device = session.get(Device, device_id)
    if device is None or device.user_id != user.id:
        raise NotFound("No such device.")
    # Its uploads stay, no longer known as one device's: the wearable summaries of the
    # sessions they matched are worked out anew, so those sessions have changed for sync.
    matched = select(WearableUpload.session_id).where(WearableUpload.device_id == device.id)
    session.exec(
        update(TrainingSession)
        .where(col(TrainingSession.id).in_(matched), col(TrainingSession.user_id) == user.id)
        .values(updated_at=now)
    )
    # Its uploads lose their device (the key is set null): changed for sync too.
    session.exec(
        update(WearableUpload)
        .where(col(WearableUpload.device_id) == device.id)
        .values(updated_at=now)
    )
    session.delete(device)
    sync.bury(session, user.id, "device", device.id, now)
    session.commit()


def authenticate_device(session: Session, token: str, now: datetime) -> Device | None:
    if not token.startswith(DEVICE_TOKEN_PREFIX):
        return None
    device = session.exec(select(Device).where(Device.token_hash == token_digest(token))).first()
    if device is None:
        return None
    if device.last_used_at is None or now - device.last_used_at > DEVICE_SEEN_GRANULARITY:
        device.last_used_at = device.updated_at = now
        session.add(device)
        session.commit()
    return device
