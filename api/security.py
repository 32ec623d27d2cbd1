"""Password hashing, access tokens (JWT) and opaque random tokens."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import math
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from api.config import Settings

T = TypeVar("T")

# One algorithm, fixed: a token cannot choose how it is verified ("alg": "none" and
# key-confusion attacks are refused by PyJWT when the list is explicit).
JWT_ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "access"
REFRESH_TOKEN_PREFIX = "bsr_"
DEVICE_TOKEN_PREFIX = "bsd_"
# Shown to people so they can tell their devices apart; far too short to guess from.
DISPLAY_PREFIX_LENGTH = 12


class InvalidToken(Exception):
    """The access token is malformed, forged, expired or of the wrong kind."""


def password_hasher(settings: Settings) -> PasswordHash:
    return PasswordHash(
        (
            Argon2Hasher(
                time_cost=settings.argon2_time_cost,
                memory_cost=settings.argon2_memory_kib,
                parallelism=settings.argon2_parallelism,
            ),
        )
    )


@dataclass(frozen=True)
class Passwords:
    """Hashing with a decoy, so unknown emails take as long as wrong passwords."""

    hasher: PasswordHash
    decoy_hash: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Passwords:
        hasher = password_hasher(settings)
        return cls(hasher=hasher, decoy_hash=hasher.hash(secrets.token_urlsafe(16)))

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password: str, password_hash: str | None) -> bool:
        if password_hash is None:
            self.hasher.verify(password, self.decoy_hash)
            return False
        return self.hasher.verify(password, password_hash)


def create_access_token(
    settings: Settings,
    *,
    user_id: uuid.UUID,
    role: str,
    now: datetime,
    family_id: uuid.UUID | None = None,
) -> tuple[str, int]:
    lifetime = timedelta(minutes=settings.access_token_minutes)
    claims = {
        "sub": str(user_id),
        "role": role,
        "type": ACCESS_TOKEN_TYPE,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    if family_id is not None:
        # The sign-in it belongs to: signing out (or a stolen refresh token's reuse) ends
        # the family, and with it this token, at once (api/deps.py current_user).
        claims["fid"] = str(family_id)
    token = jwt.encode(claims, settings.secret_key, algorithm=JWT_ALGORITHM)
    return token, int(lifetime.total_seconds())


def decode_access_token(settings: Settings, token: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["exp", "iat", "sub", "jti"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    if claims.get("type") != ACCESS_TOKEN_TYPE:
        raise InvalidToken("not an access token")
    return claims


def new_opaque_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def derived_token(prefix: str, secret: str, purpose: str, seed: str) -> str:
    """A token as unguessable as `new_opaque_token` (256 bits) that this server, and only
    it (the secret key), can work out again from `seed`: so a retry can be answered with
    the token a lost response carried, although only its digest is stored."""
    mac = hmac.new(secret.encode(), f"{purpose}\x00{seed}".encode(), hashlib.sha256).digest()
    return prefix + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Hashes run at a lower priority than request handlers, but not so low that they stop:
# SCHED_IDLE (used before) let any busy handler starve them, and under a steady load 10 to
# 43 of 50 new users never got in. Nice 10 under SCHED_BATCH keeps a share of the CPU
# (about a tenth against one busy handler thread) while handlers still win every wakeup.
HASH_THREAD_NICENESS = 10


def _lower_this_threads_priority() -> None:
    # On Linux scheduling policy and niceness are per thread, and the threads libargon2
    # starts for its lanes inherit them. SCHED_BATCH marks the thread as CPU-bound, so a
    # waking request handler preempts it rather than waiting out its slice (catalog p99
    # during a sign-in flood stays within 2x of reads alone).
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_THREAD_NICENESS)


class HashQueueFull(Exception):
    """A hash could not start within the queue's bound (or the queue is full)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("password hashing is saturated")
        self.retry_after = retry_after


class _Ticket:
    """One queued hash: it runs only if it starts before its deadline, and never after
    its waiter has given up on it."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.lock = threading.Lock()
        self.started = False
        self.abandoned = False

    def start(self) -> bool:
        with self.lock:
            if self.abandoned or time.monotonic() > self.deadline:
                self.abandoned = True
                return False
            self.started = True
            return True

    def abandon(self) -> bool:
        """True if the hash will never run (it had not started)."""
        with self.lock:
            if self.started:
                return False
            self.abandoned = True
            return True


def _ignore_result(future: asyncio.Future[Any]) -> None:
    # A result nobody reads; its exception must not be reported as never retrieved.
    if not future.cancelled():
        future.exception()


class HashPool:
    """Where password hashing runs: a few low-priority threads of its own.

    Never the event loop (a hash costs ~0.1-0.2 s of CPU) and never the shared worker
    pool (a flood of sign-ins would hold every worker), so sign-in floods queue here while
    other requests keep their threads and most of the CPU. The queue is bounded in time
    and length: a hash that cannot start within `max_wait` seconds, or finds `max_queued`
    ahead of it, is refused with HashQueueFull (a 503 with Retry-After) instead of
    leaving its client waiting for as long as the load lasts.
    """

    def __init__(self, workers: int, max_wait: float = 3.0, max_queued: int = 64) -> None:
        self._workers = workers
        self._max_wait = max_wait
        self._max_queued = max_queued
        self._executor = self._start()
        self._lock = threading.Lock()
        self._queued = 0

    def _start(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(
            max_workers=self._workers,
            thread_name_prefix="password-hash",
            initializer=_lower_this_threads_priority,
        )

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self._max_wait))

    async def run(self, func: Callable[[], T]) -> T:
        with self._lock:
            # An app can be started again after a shutdown (tests, reloaders): restart.
            if self._executor._shutdown:  # noqa: SLF001
                self._executor = self._start()
                # Jobs the shutdown cancelled never ran to count themselves out.
                self._queued = 0
            executor = self._executor
            if self._queued >= self._max_queued:
                raise HashQueueFull(self.retry_after)
            self._queued += 1
        ticket = _Ticket(time.monotonic() + self._max_wait)

        def job() -> T:
            with self._lock:
                self._queued -= 1
            if not ticket.start():
                raise HashQueueFull(self.retry_after)
            return func()

        future = asyncio.get_running_loop().run_in_executor(executor, job)
        try:
            done, _ = await asyncio.wait({future}, timeout=self._max_wait)
        except BaseException:
            # The request was cancelled (its client went away) while the hash waited: it
            # must not run later on a session the request has already closed.
            if ticket.abandon():
                future.add_done_callback(_ignore_result)
            raise
        if not done and ticket.abandon():
            # Still queued: it will be skipped when its turn comes.
            future.add_done_callback(_ignore_result)
            raise HashQueueFull(self.retry_after)
        # Started in time: a started hash finishes in bounded CPU time.
        return await future

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
