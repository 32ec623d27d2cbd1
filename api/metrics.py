"""Prometheus metrics: requests counted and timed by route template, served at ``/metrics``.

Labels are the method, the route's template (``/v1/sessions/{session_id}``, never the
concrete path, so ids never become label values) and the status; nothing else from a
request is recorded. Each app has its own registry, so the many apps a test run builds
never share counters or collide on registration.

With ``PROMETHEUS_MULTIPROC_DIR`` set, prometheus_client's multiprocess mode is on: every
worker process writes its samples to files in that directory and a scrape of any worker
sums them all. The library decides this when it is first imported, so the variable must
be set before the server starts, and the directory emptied first (``backstrong serve``
does both checks; see the README).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import iter_route_contexts
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.routing import BaseRoute
from starlette.types import Scope

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# One label for every request no route matched (404s, 413s refused before routing,
# slash redirects): a scanner's random paths must not each become a time series.
UNMATCHED = "<unmatched>"
# Any token is a valid HTTP method, so an unexpected one is folded into one value.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "OTHER"
# Cached catalog reads take tens of microseconds, password checks a few hundred
# milliseconds; the default buckets start at 5 ms and would lump the fast ones together.
DURATION_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def clear_multiprocess_dir(path: str) -> int:
    """Create the directory, or delete the sample files a previous run left in it.

    Only ``*.db`` files go: those are prometheus_client's, and anything else in a
    misconfigured directory (``/tmp``) is not ours to delete.
    """
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    stale = list(directory.glob("*.db"))
    for file in stale:
        file.unlink(missing_ok=True)
    return len(stale)


class RequestMetrics:
    """The app's registry and the per-request counters. Used from the event loop only."""

    def __init__(self, routes: Sequence[BaseRoute], multiproc_dir: str | None = None) -> None:
        # The app's live route list: routes included after this is built are seen too.
        self._routes = routes
        self.multiprocess = multiproc_dir is not None
        self.registry = CollectorRegistry()
        own: CollectorRegistry | None
        if multiproc_dir is not None:
            # Samples are in the shared files; this process's own objects only write them.
            # (The library leaves this constructor unannotated.)
            MultiProcessCollector(self.registry, path=multiproc_dir)  # type: ignore[no-untyped-call]
            own = None
        else:
            # The library's process, platform and GC collectors describe the whole
            # process, so the same objects serve every app's registry.
            for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
                self.registry.register(collector)
            own = self.registry
        self._requests = Counter(
            "backstrong_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
            registry=own,
        )
        self._duration = Histogram(
            "backstrong_http_request_duration_seconds",
            "Time from receiving a request to finishing its response, by method and route.",
            ("method", "route"),
            buckets=DURATION_BUCKETS,
            registry=own,
        )
        # labels() takes a lock and builds a key on every call; the few hundred label
        # combinations an app can produce are kept here instead.
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._by_endpoint: dict[int, str] = {}

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        """Count a request the router handled (or refused) once its response is done."""
        route = scope.get("route")
        if route is not None:
            template = getattr(route, "path_format", None) or UNMATCHED
        else:
            template = self._template_for(scope.get("endpoint"))
        self.observe_template(scope["method"], template, status, seconds)

    def observe_template(self, method: str, template: str, status: int, seconds: float) -> None:
        if method not in METHODS:
            method = OTHER_METHOD
        key = (method, template, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self._requests.labels(method, template, str(status)),
                self._duration.labels(method, template),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def exposition(self, accept: str) -> tuple[bytes, str]:
        """The registry in the format the scraper asked for, and its content type."""
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type

    def _template_for(self, endpoint: Any) -> str:
        # FastAPI names the matched route in the scope only for its own routes; plain
        # Starlette routes and mounts (/openapi.json, /static) leave just the endpoint.
        if endpoint is None:
            return UNMATCHED
        template = self._by_endpoint.get(id(endpoint))
        if template is None:
            self._by_endpoint = dict(self._endpoint_templates())
            template = self._by_endpoint.setdefault(id(endpoint), UNMATCHED)
        return template

    def _endpoint_templates(self) -> Iterator[tuple[int, str]]:
        for context in iter_route_contexts(self._routes):
            endpoint = context.endpoint or getattr(context, "app", None)
            if endpoint is not None and context.path_format:
                yield id(endpoint), context.path_format


router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus exposition: counts and durations by route template, no request data.

    A plain ``def``: in multiprocess mode a scrape reads every worker's files, which
    must not hold up the event loop.
    """
    collected: RequestMetrics = request.app.state.metrics
    body, content_type = collected.exposition(request.headers.get("accept", ""))
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
