"""Request dependencies: the database session, clock, settings, the catalog, and who is
calling.

Every route declares exactly one of ``CurrentUser``, ``AdminUser``,
``ClinicianUser``, ``DeviceAuth`` or ``ImporterAuth`` (or none, for the few public routes).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer
from sqlalchemy import Uuid, bindparam, exists
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from api.catalog_cache import CatalogCache
from api.config import Settings
from api.db import release_connection, utcnow
from api.domain.instruments import Instrument
from api.errors import DeviceTokenNotAllowed, Forbidden, Unauthorized
from api.models import Device, RefreshToken, User
from api.security import (
    DEVICE_TOKEN_PREFIX,
    HashPool,
    InvalidToken,
    Passwords,
    decode_access_token,
)
from api.services.catalog_snapshot import Snapshot
from api.services.devices import authenticate_device


async def get_session(request: Request) -> AsyncIterator[Session]:
    # Services commit explicitly; nothing is committed after the yield, because
    # that would run after the response has been sent.
    # Async, so that making a session (no I/O) costs no hop to a worker thread; closing
    # one that still holds a connection rolls back, which is I/O, so that goes to one.
    session = Session(request.app.state.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]


# The small dependencies below are async so that FastAPI runs them on the event loop: a
# sync one is a hop to a worker thread each (bench.load: about a tenth of a worker's CPU
# went to resolving dependencies, mostly those hops).
def client_address(request: Request) -> str:
    """Who throttles count against: the connection's address, or X-Forwarded-For's from
    a proxy uvicorn trusts (FORWARDED_ALLOW_IPS; README "Security")."""
    # At most what refresh_tokens.address holds (an IPv6 address is up to 45 characters).
    return request.client.host[:64] if request.client else "unknown"


async def get_clock() -> Callable[[], datetime]:
    """The time source; tests override it to move time forward."""
    return utcnow


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_passwords(request: Request) -> Passwords:
    passwords: Passwords = request.app.state.passwords
    return passwords


async def get_instruments(request: Request) -> Mapping[str, Instrument]:
    """The outcome instruments, read when the app was made (api/services/instruments.py)."""
    instruments: Mapping[str, Instrument] = request.app.state.instruments
    return instruments


Clock = Annotated[Callable[[], datetime], Depends(get_clock)]
InstrumentsDep = Annotated[Mapping[str, Instrument], Depends(get_instruments)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PasswordsDep = Annotated[Passwords, Depends(get_passwords)]

_oauth2 = OAuth2PasswordBearer(
    tokenUrl="/v1/auth/token",
    scheme_name="OAuth2Password",
    description="Sign in with email (as username) and password.",
    auto_error=False,
)
_device_bearer = HTTPBearer(
    scheme_name="DeviceToken",
    description="A wearable's device token (from POST /v1/me/devices).",
    auto_error=False,
)


_USER_AND_FAMILY = select(
    User,
    exists()
    .where(
        col(RefreshToken.family_id) == bindparam("family_id", type_=Uuid()),
        col(RefreshToken.revoked_at).is_not(None),
    )
    .label("ended"),
).where(User.id == bindparam("user_id", type_=Uuid()))


def current_user(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(_oauth2)],
) -> User:
    if not token:
        raise Unauthorized("Not authenticated: send an access token as `Authorization: Bearer`.")
    if token.startswith(DEVICE_TOKEN_PREFIX):
        raise DeviceTokenNotAllowed(
            "A device token only uploads and imports wearable data (POST "
            "/v1/wearable/uploads, /v1/wearable/imports/...); send the person's access "
            "token here."
        )
    try:
        claims = decode_access_token(settings, token)
        user_id = uuid.UUID(str(claims["sub"]))
        family_id = uuid.UUID(str(claims["fid"])) if "fid" in claims else None
    except (InvalidToken, ValueError) as exc:
        raise Unauthorized("The access token is invalid or expired.") from exc
    if family_id is None:
        user = session.get(User, user_id)
    else:
        # Whether its sign-in has ended rides on the account read: one statement.
        found = session.exec(
            _USER_AND_FAMILY, params={"user_id": user_id, "family_id": family_id}
        ).first()
        user, ended = found if found is not None else (None, False)
        if ended:
            raise Unauthorized("This sign-in has ended (signed out, or ended for safety).")
    # Handed back before the endpoint's hop (release_connection says why). Keeping it
    # for the endpoint was tried: routes that do not queue for a place (DELETE /v1/me)
    # and catalog reloads (a second connection) could then hold every connection while
    # waiting for a thread.
    release_connection(session)
    if user is None:
        raise Unauthorized("The access token's account no longer exists.")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def require_admin(user: CurrentUser) -> User:
    if user.role != "admin":
        raise Forbidden("This action needs the admin role.")
    return user


async def require_clinician(user: CurrentUser) -> User:
    if user.role != "clinician":
        raise Forbidden("This action needs the clinician role.")
    return user


AdminUser = Annotated[User, Depends(require_admin)]
ClinicianUser = Annotated[User, Depends(require_clinician)]


def device_auth(
    session: SessionDep,
    clock: Clock,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_device_bearer)],
) -> Device:
    if credentials is None:
        raise Unauthorized("Not authenticated: send the device token as `Authorization: Bearer`.")
    device = authenticate_device(session, credentials.credentials, clock())
    release_connection(session)
    if device is None:
        raise Unauthorized("Unknown or revoked device token.")
    return device


DeviceAuth = Annotated[Device, Depends(device_auth)]


@dataclass(frozen=True)
class Importer:
    """Who sends a platform import: the phone's app with the person's own token (`device`
    None), or a device token."""

    user_id: uuid.UUID
    device: Device | None


def importer_auth(
    session: SessionDep,
    settings: SettingsDep,
    clock: Clock,
    token: Annotated[str | None, Depends(_oauth2)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_device_bearer)],
) -> Importer:
    """A device token or the person's access token (both schemes, either one, in the
    document)."""
    if not token:
        raise Unauthorized(
            "Not authenticated: send the person's access token or a device token as "
            "`Authorization: Bearer`."
        )
    if token.startswith(DEVICE_TOKEN_PREFIX):
        device = device_auth(session, clock, credentials)
        return Importer(device.user_id, device)
    return Importer(current_user(session, settings, token).id, None)


ImporterAuth = Annotated[Importer, Depends(importer_auth)]


async def hash_pool(request: Request) -> HashPool:
    pool: HashPool = request.app.state.hash_pool
    return pool


HashPoolDep = Annotated[HashPool, Depends(hash_pool)]


# Both async: they run on the event loop, never as a hop to a worker thread.
async def catalog_cache(request: Request) -> CatalogCache:
    cache: CatalogCache = request.app.state.catalog_cache
    return cache


CatalogCacheDep = Annotated[CatalogCache, Depends(catalog_cache)]


async def current_catalog(cache: CatalogCacheDep) -> Snapshot:
    """The current catalog: the version is probed on the event loop, the kept snapshot
    reused while it is unchanged, and only a change costs a worker thread (to reload)."""
    snap = cache.current()
    if snap is None:
        snap = await run_in_threadpool(cache.reload)
    return snap


CatalogDep = Annotated[Snapshot, Depends(current_catalog)]
