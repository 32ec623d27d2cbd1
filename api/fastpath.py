"""Replay cached catalog responses without entering the framework.

The catalog routes record each 200 response they render under (catalog version,
path, query string). Later GETs for the same URL at the same stored version are
answered here, before routing, dependency injection and validation run: those
already ran, with the same inputs, for the recorded response. Anything not
recorded falls through to the routes unchanged. The version is read from the
database on every request (VersionProbe), so an edit is seen at once by every
API process.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from starlette.types import ASGIApp, Receive, Scope, Send

from api.middleware import SECURITY_HEADERS, RequestPlumbing, request_id_for
from api.services.catalog import CatalogCache, ProbeFailed, Rendered, VersionProbe, none_match

REPLAY_PREFIXES = ("/v1/exercises", "/v1/muscles", "/v1/equipment")
MAX_ENTRIES = 1024


class ReplayCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[int, str, bytes], tuple[Rendered, str]] = OrderedDict()

    def record(
        self, version: int, path: str, query: bytes, rendered: Rendered, cache_control: str
    ) -> None:
        with self._lock:
            self._entries[(version, path, query)] = (rendered, cache_control)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)

    def get(self, version: int, path: str, query: bytes) -> tuple[Rendered, str] | None:
        return self._entries.get((version, path, query))


class CatalogFastPath:
    def __init__(
        self, app: ASGIApp, *, replay: ReplayCache, probe: VersionProbe, cache: CatalogCache
    ) -> None:
        self.app = app
        self.replay = replay
        self.probe = probe
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not scope["path"].startswith(REPLAY_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        try:
            version = self.probe.read()
        except ProbeFailed:
            await self.app(scope, receive, send)
            return
        hit = self.replay.get(version, scope["path"], scope["query_string"])
        if hit is None:
            await self.app(scope, receive, send)
            return
        rendered, cache_control = hit
        started = time.perf_counter()
        if_none_match = None
        incoming = ""
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == b"x-request-id":
                incoming = value.decode("latin-1")
        # The same id, security headers and access log as every other response.
        request_id = request_id_for(incoming)
        headers = [
            (b"etag", rendered.etag.encode()),
            (b"cache-control", cache_control.encode()),
            (b"x-request-id", request_id.encode()),
            *SECURITY_HEADERS,
        ]
        if none_match(if_none_match, rendered.etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            RequestPlumbing.log(scope, 304, started, request_id)
            return
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(rendered.body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": rendered.body})
        RequestPlumbing.log(scope, 200, started, request_id)
