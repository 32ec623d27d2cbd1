"""Evaluations kept between reads, while nothing they read has changed (issue 16).

A read (advice, routine, progress, a clinician's view) evaluates the rules without
writing. Its answer stays right until one of two things happens: a write to what the
rules read about the person, which moves `users.eval_version` (api/changes.py), or the
passage of time past the instant the domain names (api/domain/horizon.py). An entry is
served only while the person's row, the catalog snapshot and the version are the ones
it was made with, and `now` is before that instant; then it is the evaluation a fresh
one would give, stamped `now`. MAX_HOLD bounds how long any entry lives even so.

One cache per engine (per database) in each process; with several workers each keeps
its own, and a write seen by one is seen by the others through the version.
"""

from __future__ import annotations

import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from api.changes import wrote_in_this_transaction
from api.models import User

# However long the domain says an answer holds, it is evaluated afresh after this: a
# bound on what an instant missed from horizon.DURATIONS could cost.
MAX_HOLD = timedelta(minutes=10)
DEFAULT_ENTRIES = 2048
_PERSON = tuple(c.key for c in User.__table__.columns)  # type: ignore[attr-defined]


def person_row(user: User) -> tuple[Any, ...]:
    """Everything stored about the person, as read: the rules read the time zone, the
    birth year and more; any change to the row makes an entry stale."""
    return tuple(getattr(user, key) for key in _PERSON)


@dataclass(frozen=True)
class _Entry:
    person: tuple[Any, ...]
    catalog: Mapping[str, Any]
    made_at: datetime
    until: datetime
    value: Any


class EvaluationCache:
    """At most `entries` people's latest evaluation, least recently used out first."""

    def __init__(self, entries: int = DEFAULT_ENTRIES) -> None:
        self.entries = entries
        self._items: OrderedDict[uuid.UUID, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, user: User, catalog: Mapping[str, Any], now: datetime) -> Any | None:
        # Read before the lock: an expired attribute loads from the database.
        person = person_row(user)
        with self._lock:
            entry = self._items.get(user.id)
            if (
                entry is None
                or entry.catalog is not catalog
                or not entry.made_at <= now < entry.until
                or entry.person != person
            ):
                self.misses += 1
                return None
            self.hits += 1
            self._items.move_to_end(user.id)
            return entry.value

    def put(
        self,
        user: User,
        catalog: Mapping[str, Any],
        made_at: datetime,
        until: datetime,
        value: Any,
    ) -> None:
        if self.entries <= 0 or until <= made_at:
            return
        entry = _Entry(person_row(user), catalog, made_at, min(until, made_at + MAX_HOLD), value)
        with self._lock:
            self._items[user.id] = entry
            self._items.move_to_end(user.id)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_CACHES: weakref.WeakKeyDictionary[Engine, EvaluationCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def configure(engine: Engine, entries: int) -> EvaluationCache:
    """The cache of `engine`'s database, holding at most `entries` people (0: none)."""
    with _CACHES_LOCK:
        cache = _CACHES.get(engine)
        if cache is None:
            cache = _CACHES[engine] = EvaluationCache(entries)
        cache.entries = entries
        return cache


def cache_for(session: Session) -> EvaluationCache | None:
    """The cache this session's reads may use, or None when it would see writes of its
    own not yet committed (pending rows, or rows flushed in this transaction)."""
    if session.new or session.dirty or session.deleted or wrote_in_this_transaction(session):
        return None
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    cache = _CACHES.get(engine)
    return cache if cache is not None else configure(engine, DEFAULT_ENTRIES)
