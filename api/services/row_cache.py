"""Stored rows already turned into domain data, kept by what identifies their content.

Every evaluation reads the person's window: about a hundred check-ins and a few dozen
logs, each decoded from JSON and built into domain objects. Nearly all of them were
read the same way by the evaluation before (issue 16 measured decoding and building
them at a third of a check-in's cost). A stored check-in is never changed, and a log
changes only by a correction, which moves its version and `updated_at`; so the window
is read as keys first (api/services/history_queries.py) and only rows not kept here
are read whole.

A key holds everything that tells one stored content from another: the row's id with
when it was stored and its body digest (a check-in), or its session, version and last
change (a log). A row deleted and stored again under the same id (an account deleted
and made anew) has another time, so it never meets the content kept for the first.

One cache per engine (per database) in each process, like the evaluation cache; the
values are frozen domain objects, shared between requests.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

# Rows kept per process and database when no size is configured: the windows of the
# few hundred people who evaluated last (a converted row is about half a kilobyte).
DEFAULT_ROWS = 65_536
# Rows kept for each person the evaluation cache is sized for (evaluation_cache_entries):
# most of a window of 60 days of daily check-ins and sessions.
ROWS_PER_PERSON = 64
# However many people that is: about 500 MB per process at most.
MAX_ROWS = 1_000_000


class RowCache:
    """At most `rows` converted rows, least recently used out first."""

    def __init__(self, rows: int = DEFAULT_ROWS) -> None:
        self.rows = rows
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def known(self, keys: Iterable[Hashable]) -> dict[Hashable, Any]:
        """The kept values among `keys`."""
        found = {}
        with self._lock:
            items = self._items
            for key in keys:
                value = items.get(key)
                if value is not None:
                    items.move_to_end(key)
                    found[key] = value
        return found

    def keep(self, values: dict[Hashable, Any]) -> None:
        if self.rows <= 0 or not values:
            return
        with self._lock:
            items = self._items
            items.update(values)
            for key in values:
                items.move_to_end(key)
            while len(items) > self.rows:
                items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


_CACHES: weakref.WeakKeyDictionary[Engine, RowCache] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def configure(engine: Engine, people: int) -> RowCache:
    """The cache of `engine`'s database, sized by the number of people the evaluation
    cache keeps (0: none)."""
    with _LOCK:
        cache = _CACHES.get(engine)
        if cache is None:
            cache = _CACHES[engine] = RowCache()
        cache.rows = min(people * ROWS_PER_PERSON, MAX_ROWS)
        return cache


def rows_for(session: Session) -> RowCache:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    cache = _CACHES.get(engine)
    if cache is None:
        with _LOCK:
            cache = _CACHES.setdefault(engine, RowCache())
    return cache


def clear(engine: Engine) -> None:
    """Forget what is kept for `engine`'s database (tests empty it between cases)."""
    cache = _CACHES.get(engine)
    if cache is not None:
        cache.clear()
