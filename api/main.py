"""The application factory; ``api.main:app`` is the app servers run."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.types import Receive, Scope, Send

from api import __version__
from api.admission import Admission, places_for
from api.catalog_cache import CatalogCache
from api.catalog_replay import CatalogReplay
from api.config import Settings, get_settings
from api.db import make_engine
from api.json_log import QueuedJsonHandler
from api.metrics import RequestMetrics, multiprocess_dir
from api.metrics import router as metrics_router
from api.middleware import RequestPlumbing, security_headers
from api.openapi import TAGS, install_openapi, operation_id
from api.problems import install_error_handlers
from api.routes import (
    auth,
    catalog,
    clinicians,
    fhir,
    health,
    me,
    meta,
    outcomes,
    pain,
    rules,
    segment_types,
    training,
    wearable,
)
from api.security import HashPool, Passwords
from api.services import evaluation_cache, row_cache
from api.services.instruments import load_instruments

STATIC_DIR = Path(__file__).resolve().parent / "static"

DESCRIPTION = """\
Backstrong serves the back-strengthening exercise catalog, builds sessions, takes workout
logs, wearable uploads and pain check-ins, and runs a rule service that progresses, holds or
regresses exercises and advises seeing a doctor when pain rises.

Advice from this API is not a diagnosis. Every error is `application/problem+json`
(RFC 9457); match on its `type`. Bodies are taken as documented: a number sent as text,
a boolean as 0/1 or a date-time as seconds since 1970 is refused, not converted (a whole
number such as 3.0 counts as the integer 3; ids and dates are their usual text forms), and
no text may contain U+0000.
"""


class Backstrong(FastAPI):
    """FastAPI, with recorded catalog reads answered before any of its layers run.

    The catalog is the most read and the cheapest answer; FastAPI's own outer layers
    (error, telemetry and body-limit middleware, a few environment reads each) cost more
    than the replay itself (issue 16: the 304 revalidation below its goal).
    """

    replay: CatalogReplay | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.replay is not None and await self.replay.answer(scope, send):
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """Build the app. Tests pass their own settings (and engine) here."""
    settings = settings or get_settings()
    engine = engine or make_engine(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.catalog_cache.close()
        app.state.hash_pool.shutdown()
        engine.dispose()

    app = Backstrong(
        title="Backstrong API",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # Short camelCase operation ids (`listExercises`), for client generators.
        generate_unique_id_function=operation_id,
        openapi_tags=TAGS,
    )
    app.state.settings = settings
    app.state.engine = engine
    evaluation_cache.configure(engine, settings.evaluation_cache_entries)
    row_cache.configure(engine, settings.evaluation_cache_entries)
    app.state.passwords = Passwords.from_settings(settings)
    app.state.hash_pool = HashPool(
        settings.hash_concurrency, settings.hash_queue_seconds, settings.hash_queue_max
    )
    app.state.catalog_cache = CatalogCache(engine)
    # Read once; a broken instrument file (or licensed text) stops the server starting.
    app.state.instruments = load_instruments(licensed_text=settings.odi_text_file)
    app.state.metrics = (
        RequestMetrics(app.router.routes, multiprocess_dir()) if settings.metrics_enabled else None
    )
    # Requests wait their turn for the database in arrival order: inside CORS (a browser
    # can read a 503's Retry-After; preflights never queue) and the plumbing (the 503
    # has an id, headers and its log line).
    app.add_middleware(
        Admission,
        limit=places_for(settings.db_pool_size, settings.db_max_overflow),
        wait_seconds=settings.db_pool_timeout_seconds,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Content-Encoding",
                "If-Match",
                "If-None-Match",
                "Idempotency-Key",
                "X-Request-ID",
            ],
            expose_headers=[
                "ETag",
                "Location",
                "X-Request-ID",
                "Idempotent-Replayed",
                "Retry-After",
            ],
        )
    # Every response, errors included, gets an id and the security headers.
    headers = security_headers(settings.env == "production")
    app.add_middleware(
        RequestPlumbing,
        metrics=app.state.metrics,
        headers=headers,
        body_seconds=settings.body_timeout_seconds,
    )
    # Before the framework: cached catalog reads are answered before anything else runs
    # (with the same id, headers and access log).
    app.replay = CatalogReplay(
        cache=app.state.catalog_cache,
        # It answers before routing, so it counts the reads it answers itself.
        metrics=app.state.metrics,
        cors=bool(settings.cors_origins),
        headers=headers,
    )

    install_error_handlers(app)
    install_openapi(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(meta.router)
    app.include_router(meta.problems_router)
    app.include_router(health.router)
    if app.state.metrics is not None:
        app.include_router(metrics_router)
    app.include_router(auth.router)
    app.include_router(me.router)
    app.include_router(catalog.router)
    app.include_router(pain.router)
    app.include_router(outcomes.router)
    app.include_router(fhir.router)
    app.include_router(rules.router)
    app.include_router(training.router)
    app.include_router(clinicians.router)
    app.include_router(wearable.router)
    app.include_router(segment_types.router)
    return app


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    # JSON lines written by a background thread (api/json_log.py), so no request waits
    # on stderr. logging.shutdown closes the handler at exit, which writes what is
    # queued; so does force=True when a later call replaces it.
    handler = QueuedJsonHandler(stream or sys.stderr)
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)


def __getattr__(name: str) -> Any:
    # Built on first access so importing create_app has no side effects.
    if name == "app":
        settings = get_settings()
        configure_logging(settings)
        application = create_app(settings)
        globals()["app"] = application
        return application
    raise AttributeError(name)
