"""The HTTP side of errors: every error becomes one ``application/problem+json`` response.

Services raise the framework-free errors of ``api.errors``; this module turns them (and
request validation, Starlette's HTTP errors, transient database failures and anything
unexpected) into RFC 9457 problem documents, adds the headers their meaning calls for
(``Retry-After``, ``WWW-Authenticate``, ``Allow``), and documents them in OpenAPI.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, PendingRollbackError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from api.context import request_id_var
from api.errors import PROBLEM_TYPES, AppError, problem_type
from api.security import HashQueueFull

# The logger errors were always logged under, kept so log queries keep working.
logger = logging.getLogger("api.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"

_STATUS_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    408: "request-timeout",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    428: "precondition-required",
    429: "too-many-requests",
    503: "not-ready",
}


def problem_response(
    status: int,
    slug: str,
    detail: str,
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type(slug),
        "title": title or _title(status),
        "status": status,
        "detail": detail,
    }
    if extra:
        body.update(extra)
    request_id = request_id_var.get()
    if request_id:
        # RFC 9457 `instance`: this occurrence, quotable to support and found in the logs.
        body.setdefault("instance", f"urn:request:{request_id}")
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_MEDIA_TYPE
    )


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _field_name(loc: Sequence[str | int]) -> tuple[str, str]:
    """Turn a pydantic location into (where, dotted field name)."""
    where = str(loc[0]) if loc else "body"
    parts = [str(p) for p in loc[1:]]
    if where == "body" and parts and parts[0].isdigit() and len(loc) == 2:
        # A JSON syntax error is located by character offset, not by field.
        parts = []
    field = ".".join(parts) if parts else where
    return where, field


# A union member in a pydantic error location: a model's class name or a primitive
# (`bool | Assessment` fails as "red_flags_resolved.bool" and "red_flags_resolved.
# Assessment.assessed_by"). Field names are snake_case, so these never clash.
_UNION_MEMBER = re.compile(r"^(bool|int|float|str|[A-Z]\w*)$")


def _without_union_members(errors: Sequence[Any]) -> list[Any]:
    """One union member's errors per field, with the member's name taken out of the
    location: the model's errors when the client sent an object, else the primitive's."""
    sent_object: set[tuple[Any, ...]] = set()
    split: list[tuple[Any, tuple[Any, ...] | None, bool]] = []
    for err in errors:
        loc = tuple(err.get("loc", ()))
        at = next(
            (
                i
                for i, p in enumerate(loc)
                if i > 0 and isinstance(p, str) and _UNION_MEMBER.match(p)
            ),
            None,
        )
        if at is None:
            split.append((err, None, False))
            continue
        parent, model = loc[:at], loc[at][0].isupper()
        if not model and isinstance(err.get("input"), dict):
            sent_object.add(parent)
        split.append(({**err, "loc": parent + loc[at + 1 :]}, parent, model))
    return [
        err for err, parent, model in split if parent is None or model == (parent in sent_object)
    ]


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for err in _without_union_members(exc.errors()):
        where, field = _field_name(err.get("loc", ()))
        message = str(err.get("msg", "invalid"))
        if err.get("type") == "json_invalid":
            message = f"Body is not valid JSON: {err.get('ctx', {}).get('error', message)}"
        code = str(err.get("type", "invalid"))
        out.append({"field": field, "in": where, "code": code, "message": message})
    return out


def app_error_headers(exc: AppError) -> dict[str, str]:
    """The HTTP headers an error's meaning calls for."""
    headers: dict[str, str] = {}
    if exc.challenge is not None:
        headers["WWW-Authenticate"] = exc.challenge
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return headers


async def _app_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_response(
        exc.status, exc.slug, exc.detail, headers=app_error_headers(exc), extra=exc.extra
    )


async def _hash_queue_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HashQueueFull)
    return problem_response(
        503,
        "busy",
        "Too many sign-ins are waiting for their password check right now; nothing was "
        "changed. Retry after Retry-After seconds.",
        headers={"Retry-After": str(exc.retry_after)},
    )


async def _validation_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = validation_errors(exc)
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return problem_response(
        422, "validation-error", f"Invalid request: {fields}", extra={"errors": errors}
    )


async def _http_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = _STATUS_SLUGS.get(exc.status_code, "http-error")
    detail = exc.detail if isinstance(exc.detail, str) else _title(exc.status_code)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return problem_response(exc.status_code, slug, detail, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    # Starlette's 405 names only the first route that matched the path; FastAPI gives
    # each method of a path its own route, so gather them all for an honest Allow.
    methods: set[str] = set()
    path = request.scope["path"]
    for route in iter_route_contexts(request.app.routes):
        if route.methods and compile_path(str(route.path))[0].match(path):
            methods |= set(route.methods)
    return sorted(methods)


# SQLSTATE 57014 (query_canceled): our own statement_timeout fired. Matched by code, not by
# driver class, because psycopg reports it as an OperationalError like a lost connection.
QUERY_CANCELED = "57014"
# Long enough for a database restart or failover to finish, short enough that a phone or
# a load balancer tries again within seconds.
DATABASE_RETRY_AFTER_SECONDS = 5
STATEMENT_TIMEOUT_RETRY_AFTER_SECONDS = 2


def database_problem(exc: Exception) -> tuple[str, str, int] | None:
    """(slug, detail, Retry-After) when a database error is transient, else None.

    Transient: the database or a pooled connection went away, refused us, was busy, or
    cancelled a statement for running too long. Anything else (constraint violations,
    bad SQL) is a bug and stays a 500.
    """
    if isinstance(exc, PendingRollbackError) and isinstance(exc.__context__, Exception):
        # Raised by code that touched the session after a failed flush: the failure that
        # matters is the one it was handling.
        return database_problem(exc.__context__)
    if isinstance(exc, PoolTimeout):
        return (
            "database-unavailable",
            "No database connection became free in time; the service is overloaded.",
            DATABASE_RETRY_AFTER_SECONDS,
        )
    if not isinstance(exc, DBAPIError):
        return None
    if getattr(exc.orig, "sqlstate", None) == QUERY_CANCELED:
        return (
            "database-timeout",
            "The database took too long to answer this request.",
            STATEMENT_TIMEOUT_RETRY_AFTER_SECONDS,
        )
    if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
        return (
            "database-unavailable",
            "The database is unavailable right now.",
            DATABASE_RETRY_AFTER_SECONDS,
        )
    return None


async def _database_handler(request: Request, exc: Exception) -> JSONResponse:
    found = database_problem(exc)
    if found is None:
        return await _unhandled_handler(request, exc)
    slug, detail, retry_after = found
    # One line, no trace: during an outage every request lands here, and the cause is
    # the same for all of them.
    cause = getattr(exc, "orig", None) or exc
    reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    logger.warning(
        "%s on %s %s: %s: %s",
        slug,
        request.method,
        request.url.path,
        type(cause).__name__,
        reason,
    )
    return problem_response(503, slug, detail, headers={"Retry-After": str(retry_after)})


async def _unhandled_handler(request: Request, exc: Exception) -> JSONResponse:
    # Log the trace for operators; never show it to clients.
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "internal-error", "An unexpected error occurred.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error_handler)
    app.add_exception_handler(HashQueueFull, _hash_queue_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    # DBAPIError covers OperationalError and InterfaceError; the handler sends the rest
    # (integrity and programming errors) on to the 500 path.
    app.add_exception_handler(DBAPIError, _database_handler)
    app.add_exception_handler(PoolTimeout, _database_handler)
    app.add_exception_handler(PendingRollbackError, _database_handler)
    app.add_exception_handler(Exception, _unhandled_handler)


def problem_example(status: int) -> dict[str, Any]:
    slug = _STATUS_SLUGS.get(status, "http-error")
    example: dict[str, Any] = {
        "type": problem_type(slug),
        "title": _title(status),
        "status": status,
        "detail": PROBLEM_TYPES[slug],
    }
    if slug == "validation-error":
        example["errors"] = [
            {
                "field": "pain",
                "in": "body",
                "code": "less_than_equal",
                "message": "Input should be less than or equal to 10",
            }
        ]
    return example


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for a route; `api.openapi` gives them the Problem schema."""
    return {
        status: {"description": PROBLEM_TYPES[_STATUS_SLUGS.get(status, "http-error")]}
        for status in statuses
    }
