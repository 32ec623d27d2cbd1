"""A person's devices (watches, phones): paired with a token shown once, listed,
revoked, and recognised by that token on each upload."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlmodel import Session, select

from api.errors import NotFound
from api.models import Device, User
from api.pagination import keyset_page
from api.security import DEVICE_TOKEN_PREFIX, DISPLAY_PREFIX_LENGTH, new_opaque_token, token_digest

# Writing last_used_at on every upload would turn reads into writes; this is enough.
DEVICE_SEEN_GRANULARITY = timedelta(minutes=5)


def create_device(session: Session, user: User, name: str, now: datetime) -> tuple[Device, str]:
    token = new_opaque_token(DEVICE_TOKEN_PREFIX)
    device = Device(
        user_id=user.id,
        name=name,
        token_hash=token_digest(token),
        token_prefix=token[:DISPLAY_PREFIX_LENGTH],
        created_at=now,
    )
    session.add(device)
    session.commit()
    return device, token


def list_devices(
    session: Session, user: User, *, limit: int, cursor: str | None
) -> tuple[list[Device], str | None]:
    return keyset_page(
        session,
        select(Device).where(Device.user_id == user.id),
        time_col=Device.created_at,
        id_col=Device.id,
        limit=limit,
        cursor=cursor,
    )


def delete_device(session: Session, user: User, device_id: uuid.UUID) -> None:
    device = session.get(Device, device_id)
    if device is None or device.user_id != user.id:
        raise NotFound("No such device.")
    session.delete(device)
    session.commit()


def authenticate_device(session: Session, token: str, now: datetime) -> Device | None:
    if not token.startswith(DEVICE_TOKEN_PREFIX):
        return None
    device = session.exec(select(Device).where(Device.token_hash == token_digest(token))).first()
    if device is None:
        return None
    if device.last_used_at is None or now - device.last_used_at > DEVICE_SEEN_GRANULARITY:
        device.last_used_at = now
        session.add(device)
        session.commit()
    return device
