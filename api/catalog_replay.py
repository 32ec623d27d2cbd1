"""Replay cached catalog responses without entering the framework.

The catalog routes record each 200 response they render in the catalog cache
(api/catalog_cache.py) under (catalog version, path, query string). Later GETs for
the same URL at the same stored version are answered here, before the framework runs
at all (api/main.py ``Backstrong.__call__``: no error, telemetry or body-limit layer, no
routing, dependency injection or validation): those already ran, with the same inputs,
for the recorded response. A request with an ``Origin`` header, when CORS is on, goes
to the framework, so the CORS layer answers it with its allow-origin header. Anything
not recorded falls through to the routes unchanged. The version is read from the
database on every request (VersionProbe), so an edit is seen at once by every API
process. Replayed responses are counted in the request metrics under the template of
the route that recorded them, exactly as if the router had answered.
"""

from __future__ import annotations

import time

from starlette.types import Scope, Send

from api.catalog_cache import CatalogCache
from api.metrics import UNMATCHED, RequestMetrics
from api.middleware import SECURITY_HEADERS, RequestPlumbing, request_id_for
from api.preconditions import none_match

REPLAY_PREFIXES = ("/v1/exercises", "/v1/muscles", "/v1/equipment")
# The routes that record their responses (``_serve`` in api/routes/catalog.py): the list
# routes, whose path is their template, and the exercise detail route.
LIST_TEMPLATES = frozenset({"/v1/exercises", "/v1/muscles", "/v1/equipment"})
DETAIL_PREFIX = "/v1/exercises/"
DETAIL_TEMPLATE = "/v1/exercises/{slug}"


def replay_template(path: str) -> str:
    """The route template a recorded path was served by, for the request metrics."""
    if path in LIST_TEMPLATES:
        return path
    slug = path.removeprefix(DETAIL_PREFIX)
    if slug and slug != path and "/" not in slug:
        return DETAIL_TEMPLATE
    return UNMATCHED


class CatalogReplay:
    """Answers a GET the catalog cache holds a response for (`answer`), or declines."""

    def __init__(
        self,
        *,
        cache: CatalogCache,
        metrics: RequestMetrics | None = None,
        cors: bool = False,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        self.headers = SECURITY_HEADERS if headers is None else headers
        self.cache = cache
        self.probe = cache.probe
        self.metrics = metrics
        self.cors = cors

    async def answer(self, scope: Scope, send: Send) -> bool:
        """Send the recorded response and return True; False when there is none (the
        request is then the framework's, untouched)."""
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not scope["path"].startswith(REPLAY_PREFIXES)
        ):
            return False
        # Before the version read, so the logged and measured time includes it.
        started = time.perf_counter()
        if_none_match = None
        incoming = ""
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == b"x-request-id":
                incoming = value.decode("latin-1")
            elif name == b"origin" and self.cors:
                return False
        try:
            version = self.probe.read()
        except Exception:  # ProbeFailed, or no connection to be had: the framework answers
            return False
        hit = self.cache.replayed(version, scope["path"], scope["query_string"])
        if hit is None:
            return False
        rendered, cache_control, template = hit
        # The same id, security headers and access log as every other response.
        request_id = request_id_for(incoming)
        headers = [
            (b"etag", rendered.etag.encode()),
            (b"cache-control", cache_control.encode()),
            (b"x-request-id", request_id.encode()),
            *self.headers,
        ]
        if none_match(if_none_match, rendered.etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            self._done(scope, template, 304, started, request_id)
            return True
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(rendered.body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": rendered.body})
        self._done(scope, template, 200, started, request_id)
        return True

    def _done(
        self, scope: Scope, template: str, status: int, started: float, request_id: str
    ) -> None:
        RequestPlumbing.log(scope, status, started, request_id)
        if self.metrics is not None:
            self.metrics.observe_template("GET", template, status, time.perf_counter() - started)
