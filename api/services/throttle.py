"""Throttling of failures (passwords, invitation codes), shared by every API process
through the database."""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, func, select

from api.errors import TooManyRequests
from api.models import LoginFailure


@dataclass(frozen=True)
class Limit:
    key: str
    max_failures: int
    window: timedelta


def account_key(email: str) -> str:
    return f"account:{email.lower()}"


def client_group(address: str) -> str:
    """What counts as one client: an IPv4 address, or an IPv6 /64 (one subscriber's
    network, whose 2^64 addresses cost nothing to rotate through)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def address_key(address: str) -> str:
    return f"address:{client_group(address)}"


def register_key(address: str) -> str:
    return f"register:{client_group(address)}"


def pair_key(email: str, address: str) -> str:
    # The address hashed: with the longest email, the key still fits its column.
    digest = hashlib.sha256(client_group(address).encode()).hexdigest()[:16]
    return f"{pair_prefix(email)}{digest}"


def pair_prefix(email: str) -> str:
    """What every pair key of this account starts with (for erasing them with it)."""
    return f"pair:{email.lower()}|"


def locked_for(session: Session, limit: Limit, now: datetime) -> int | None:
    """Seconds until `limit.key` may try again, or None when it is not locked."""
    since = now - limit.window
    recent = session.exec(
        select(LoginFailure.failed_at)
        .where(LoginFailure.key == limit.key, col(LoginFailure.failed_at) > since)
        .order_by(col(LoginFailure.failed_at).desc())
        .limit(limit.max_failures)
    ).all()
    if len(recent) < limit.max_failures:
        return None
    # Locked until the oldest of the last `max_failures` failures leaves the window.
    unlock_at = recent[-1] + limit.window
    return max(1, math.ceil((unlock_at - now).total_seconds()))


def slowed_for(session: Session, limit: Limit, max_delay: int, now: datetime) -> int | None:
    """Seconds until `limit.key` may try again under a progressive delay, or None: past
    `limit.max_failures` within the window, each try waits 1 s after the latest failure,
    doubling with each failure beyond, up to `max_delay`."""
    count, latest = session.exec(
        select(func.count(), func.max(LoginFailure.failed_at)).where(
            LoginFailure.key == limit.key, col(LoginFailure.failed_at) > now - limit.window
        )
    ).one()
    if count < limit.max_failures or latest is None:
        return None
    delay = min(2 ** min(count - limit.max_failures, 30), max_delay)
    wait = (latest + timedelta(seconds=delay) - now).total_seconds()
    return math.ceil(wait) if wait > 0 else None


def too_many(wait: int, what: str) -> TooManyRequests:
    return TooManyRequests(
        f"Too many {what}. Try again in {wait} seconds.",
        retry_after=wait,
        extra={"retry_after": wait},
    )


def refuse_while_locked(
    session: Session, limits: list[Limit], now: datetime, what: str = "failed sign-in attempts"
) -> None:
    """429 with Retry-After while any of `limits` is locked."""
    for limit in limits:
        wait = locked_for(session, limit, now)
        if wait is not None:
            raise too_many(wait, what)


def count_failure(
    session: Session, limits: list[Limit], now: datetime, what: str = "failed sign-in attempts"
) -> None:
    """Count a failure against `limits` (committed), and answer 429 if that locked one."""
    record_failure(session, limits, now)
    session.commit()
    refuse_while_locked(session, limits, now, what)


def record_failure(session: Session, limits: list[Limit], now: datetime) -> list[int]:
    """Count a failure against each of `limits`; the new rows' ids (for withdraw)."""
    rows = [LoginFailure(key=limit.key, failed_at=now) for limit in limits]
    for limit, row in zip(limits, rows, strict=True):
        session.add(row)
        # Old rows only ever matter inside the window; prune them as we go.
        session.exec(
            delete(LoginFailure).where(
                col(LoginFailure.key) == limit.key,
                col(LoginFailure.failed_at) <= now - limit.window,
            )
        )
    session.flush()
    return [row.id for row in rows if row.id is not None]


def withdraw(session: Session, ids: list[int]) -> None:
    """Take back failures counted ahead of time (record_failure's ids)."""
    if ids:
        session.exec(delete(LoginFailure).where(col(LoginFailure.id).in_(ids)))


def clear(session: Session, key: str) -> None:
    session.exec(delete(LoginFailure).where(col(LoginFailure.key) == key))


def failure_count(session: Session, key: str) -> int:
    return session.exec(
        select(func.count()).select_from(LoginFailure).where(LoginFailure.key == key)
    ).one()
