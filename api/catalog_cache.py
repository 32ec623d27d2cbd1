"""The per-process catalog cache: one object per app, at ``app.state.catalog_cache``.

It holds the current catalog snapshot (api/services/catalog_snapshot.py), the
rendered bodies and ETags built from it, and the responses the catalog routes
recorded for replay (api/catalog_replay.py), and it owns the version probe. Every
read is checked against the stored catalog version (one primary-key lookup per
request, see VersionProbe), so an edit shows at once on every API process.
Routes reach it through the dependencies in api/deps.py (``CatalogDep`` for the
current snapshot). No web framework here: services take it as an argument.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from api.services.catalog_snapshot import Snapshot, load_snapshot
from api.services.catalog_store import CATALOG_VERSION_SQL, catalog_version

RENDER_CACHE_SIZE = 512
REPLAY_CACHE_SIZE = 1024


@dataclass(frozen=True)
class Rendered:
    etag: str
    body: bytes


def render(model: BaseModel) -> Rendered:
    body = model.__pydantic_serializer__.to_json(model)
    return Rendered(etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"', body=body)


# A recorded response: the body and ETag, its Cache-Control, and the route template it
# is counted under in the request metrics.
ReplayEntry = tuple[Rendered, str, str]


class ProbeFailed(Exception):
    """The catalog version could not be read; callers fall back to a worker thread."""


class VersionProbe:
    """Reads the stored catalog version on one connection kept for the event loop.

    A primary-key read on a bare driver connection costs a few microseconds, far
    less than handing the request to a worker thread, so cached catalog reads
    never leave the event loop. The connection is in autocommit mode (no
    transaction held open between reads, so every read sees the latest commit)
    and, on PostgreSQL, has a short statement timeout so a sick database cannot
    stall the loop for long. Only ever used from the event loop's thread.
    """

    TIMEOUT_MS = 500

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._raw: Any = None
        self._cursor: Any = None

    def _connect(self) -> Any:
        raw = self._engine.raw_connection()
        driver = raw.driver_connection
        if self._engine.dialect.name == "postgresql":
            driver.autocommit = True  # type: ignore[union-attr]
            driver.execute(f"SET statement_timeout = {self.TIMEOUT_MS}")  # type: ignore[union-attr]
        else:
            driver.isolation_level = None  # type: ignore[union-attr]
        # One driver cursor, kept: a new one (through the pool's wrapper) per read cost a
        # third of the read on SQLite.
        self._cursor = driver.cursor()  # type: ignore[union-attr]
        return raw

    def read(self) -> int:
        errors = self._engine.dialect.dbapi.Error  # type: ignore[union-attr]
        for attempt in (1, 2):
            try:
                if self._raw is None:
                    self._raw = self._connect()
                self._cursor.execute(CATALOG_VERSION_SQL)
                # fetchall, not fetchone: it steps the statement to its end, so SQLite
                # ends the read at once instead of holding a snapshot until the next one.
                rows = self._cursor.fetchall()
                return int(rows[0][0]) if rows else 0
            except (errors, DBAPIError) as exc:
                self.close()
                if attempt == 2:
                    raise ProbeFailed(str(exc)) from exc
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._cursor is not None:
            with contextlib.suppress(Exception):
                self._cursor.close()
            self._cursor = None
        if self._raw is not None:
            with contextlib.suppress(Exception):
                self._raw.invalidate()
            self._raw = None


class CatalogCache:
    """Snapshot, rendered bodies and replayable responses, always checked against the
    stored catalog version."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.probe = VersionProbe(engine)
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._rendered: OrderedDict[tuple[Any, ...], Rendered] = OrderedDict()
        # (version, path, query string) -> the response recorded for that URL
        self._replay: OrderedDict[tuple[int, str, bytes], ReplayEntry] = OrderedDict()

    # --- the snapshot ---------------------------------------------------------------

    def cached(self, version: int) -> Snapshot | None:
        snap = self._snapshot
        return snap if snap is not None and snap.version == version else None

    def load(self, session: Session, version: int) -> Snapshot:
        fresh = load_snapshot(session, version)
        with self._lock:
            if self._snapshot is None or self._snapshot.version < version:
                self._snapshot = fresh
                self._rendered.clear()
        return fresh

    def snapshot(self, session: Session) -> Snapshot:
        """The current catalog, read on the caller's session when the version moved."""
        version = catalog_version(session)
        return self.cached(version) or self.load(session, version)

    def current(self) -> Snapshot | None:
        """The kept snapshot if the probe finds it current; None when it must be (re)loaded.

        Event loop only (the probe's connection belongs to it).
        """
        try:
            version = self.probe.read()
        except ProbeFailed:
            return None
        return self.cached(version)

    def reload(self) -> Snapshot:
        """The current catalog on a session of its own: call from a worker thread."""
        with Session(self._engine) as session:
            return self.snapshot(session)

    # --- rendered bodies --------------------------------------------------------------

    def rendered(
        self, snap: Snapshot, key: tuple[Any, ...], build: Callable[[], BaseModel]
    ) -> Rendered:
        full_key = (snap.version, *key)
        with self._lock:
            hit = self._rendered.get(full_key)
            if hit is not None:
                self._rendered.move_to_end(full_key)
                return hit
        result = render(build())
        with self._lock:
            self._rendered[full_key] = result
            while len(self._rendered) > RENDER_CACHE_SIZE:
                self._rendered.popitem(last=False)
        return result

    # --- replayable responses (api/catalog_replay.py) -----------------------------------

    def record(
        self,
        version: int,
        path: str,
        query: bytes,
        rendered: Rendered,
        cache_control: str,
        template: str,
    ) -> None:
        """Keep a 200 response a route sent, for the fast path to replay for this URL."""
        with self._lock:
            self._replay[(version, path, query)] = (rendered, cache_control, template)
            while len(self._replay) > REPLAY_CACHE_SIZE:
                self._replay.popitem(last=False)

    def replayed(self, version: int, path: str, query: bytes) -> ReplayEntry | None:
        return self._replay.get((version, path, query))

    # --- lifecycle ----------------------------------------------------------------------

    def clear(self) -> None:
        """Forget everything kept, as in a freshly started process."""
        with self._lock:
            self._snapshot = None
            self._rendered.clear()
            self._replay.clear()

    def close(self) -> None:
        self.probe.close()
