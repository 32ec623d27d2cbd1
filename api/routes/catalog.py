"""The exercise catalog: public cached reads, admin-only edits with optimistic locking."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.db import SessionDep
from api.deps import AdminUser, Clock
from api.errors import problem_responses
from api.pagination import DEFAULT_LIMIT, Cursor, Limit
from api.schemas.catalog import (
    Category,
    EquipmentPage,
    ExerciseIn,
    ExercisePage,
    ExercisePatch,
    ExercisePublic,
    ExerciseReplace,
    MusclePage,
    RevisionPage,
)
from api.services import catalog
from api.services.catalog import CatalogCache, ProbeFailed, Rendered, Snapshot

router = APIRouter(tags=["catalog"])

# The catalog changes rarely: let apps and proxies reuse it for 5 minutes, then
# revalidate with If-None-Match (a 304 costs almost nothing).
CATALOG_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"
NOT_CACHEABLE = "no-store"

IfNoneMatch = Annotated[str | None, Header(description="An ETag from an earlier response.")]
IfMatch = Annotated[
    str | None,
    Header(description="The exercise's current ETag (required for PUT and PATCH)."),
]


def _cache(request: Request) -> CatalogCache:
    cache: CatalogCache = request.app.state.catalog_cache
    return cache


async def _snapshot(request: Request) -> Snapshot:
    """The current catalog; only a version change costs a trip to a worker thread."""
    state = request.app.state
    cache: CatalogCache = state.catalog_cache
    try:
        version = state.catalog_probe.read()
    except ProbeFailed:
        version = None
    snap = cache.cached(version) if version is not None else None
    if snap is not None:
        return snap

    def load() -> Snapshot:
        with Session(state.engine) as session:
            return cache.snapshot(session)

    return await run_in_threadpool(load)


CurrentCatalog = Annotated[Snapshot, Depends(_snapshot)]


def _send(
    rendered: Rendered,
    if_none_match: str | None = None,
    *,
    status_code: int = 200,
    cache_control: str = CATALOG_CACHE_CONTROL,
    headers: dict[str, str] | None = None,
) -> Response:
    out = {"ETag": rendered.etag, "Cache-Control": cache_control, **(headers or {})}
    if status_code == 200 and catalog.none_match(if_none_match, rendered.etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=out)
    return Response(
        content=rendered.body, status_code=status_code, media_type="application/json", headers=out
    )


def _serve(
    request: Request, snap: Snapshot, rendered: Rendered, if_none_match: str | None
) -> Response:
    """Answer a public read, and let the fast path replay it for this exact URL."""
    request.app.state.catalog_replay.record(
        snap.version,
        request.scope["path"],
        request.scope["query_string"],
        rendered,
        CATALOG_CACHE_CONTROL,
    )
    return _send(rendered, if_none_match)


@router.get(
    "/v1/exercises",
    response_model=ExercisePage,
    summary="The exercise catalog",
    description=(
        "Ordered warm-ups first, then strength, then stretches, by slug within each. "
        "`equipment` lists what you have (repeat it, or comma-separate): only exercises "
        "whose required equipment you have are returned; `none` means no equipment. "
        "`q` searches names, summaries and aliases, ignoring case."
    ),
    responses={304: {"description": "Not modified"}, **problem_responses(422)},
)
async def list_exercises(
    request: Request,
    snap: CurrentCatalog,
    category: Category | None = None,
    muscle: Annotated[str | None, Query(max_length=64)] = None,
    equipment: Annotated[list[str] | None, Query(max_length=20)] = None,
    max_difficulty: Annotated[int | None, Query(ge=1, le=5)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    include_archived: bool = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    filters = catalog.filters_from_query(
        category, muscle, equipment, max_difficulty, q, include_archived
    )
    rendered = catalog.list_exercises(_cache(request), snap, filters, limit, cursor)
    return _serve(request, snap, rendered, if_none_match)


@router.get(
    "/v1/exercises/{slug}",
    response_model=ExercisePublic,
    summary="One exercise, with steps, dose, muscles and variations",
    responses={304: {"description": "Not modified"}, **problem_responses(404)},
)
async def get_exercise(
    slug: str, request: Request, snap: CurrentCatalog, if_none_match: IfNoneMatch = None
) -> Response:
    rendered = catalog.get_exercise(_cache(request), snap, slug)
    return _serve(request, snap, rendered, if_none_match)


@router.get("/v1/muscles", response_model=MusclePage, summary="Muscles the catalog refers to")
async def list_muscles(
    request: Request, snap: CurrentCatalog, if_none_match: IfNoneMatch = None
) -> Response:
    return _serve(request, snap, catalog.list_muscles(_cache(request), snap), if_none_match)


@router.get("/v1/equipment", response_model=EquipmentPage, summary="Equipment slugs and names")
async def list_equipment(
    request: Request, snap: CurrentCatalog, if_none_match: IfNoneMatch = None
) -> Response:
    return _serve(request, snap, catalog.list_equipment(_cache(request), snap), if_none_match)


# --- admin ----------------------------------------------------------------------------

ADMIN_ERRORS = problem_responses(401, 403, 404, 409, 412, 422, 428)


def _written(rendered: Rendered, status_code: int = 200, **headers: str) -> Response:
    return _send(rendered, status_code=status_code, cache_control=NOT_CACHEABLE, headers=headers)


@router.post(
    "/v1/exercises",
    response_model=ExercisePublic,
    status_code=status.HTTP_201_CREATED,
    summary="Add an exercise (admin)",
    responses=problem_responses(401, 403, 409, 422),
)
def create_exercise(
    body: ExerciseIn, request: Request, admin: AdminUser, session: SessionDep, clock: Clock
) -> Response:
    rendered = catalog.create_exercise(session, _cache(request), body, admin.id, clock())
    return _written(rendered, 201, Location=f"/v1/exercises/{body.slug}")


@router.put(
    "/v1/exercises/{slug}",
    response_model=ExercisePublic,
    summary="Replace an exercise (admin; If-Match required)",
    responses=ADMIN_ERRORS,
)
def replace_exercise(
    slug: str,
    body: ExerciseReplace,
    request: Request,
    admin: AdminUser,
    session: SessionDep,
    clock: Clock,
    if_match: IfMatch = None,
) -> Response:
    return _written(
        catalog.update_exercise(
            session,
            _cache(request),
            slug,
            replacement=body,
            if_match=if_match,
            actor_id=admin.id,
            now=clock(),
        )  # fmt: skip
    )


@router.patch(
    "/v1/exercises/{slug}",
    response_model=ExercisePublic,
    summary="Change some fields of an exercise, or restore it (admin; If-Match required)",
    responses=ADMIN_ERRORS,
)
def patch_exercise(
    slug: str,
    body: ExercisePatch,
    request: Request,
    admin: AdminUser,
    session: SessionDep,
    clock: Clock,
    if_match: IfMatch = None,
) -> Response:
    return _written(
        catalog.update_exercise(
            session,
            _cache(request),
            slug,
            patch=body,
            if_match=if_match,
            actor_id=admin.id,
            now=clock(),
        )  # fmt: skip
    )


@router.delete(
    "/v1/exercises/{slug}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Archive an exercise (admin); PATCH archived=false restores it",
    responses=problem_responses(401, 403, 404, 412),
)
def archive_exercise(
    slug: str,
    request: Request,
    admin: AdminUser,
    session: SessionDep,
    clock: Clock,
    if_match: IfMatch = None,
) -> None:
    catalog.archive_exercise(
        session, _cache(request), slug, if_match=if_match, actor_id=admin.id, now=clock()
    )


@router.get(
    "/v1/exercises/{slug}/revisions",
    summary="Who changed an exercise, when, and how (admin)",
    responses=problem_responses(401, 403, 404, 422),
)
def list_revisions(
    slug: str,
    admin: AdminUser,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> RevisionPage:
    items, next_cursor = catalog.list_revisions(session, slug, limit=limit, cursor=cursor)
    return RevisionPage(items=items, next_cursor=next_cursor)
