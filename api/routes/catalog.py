"""The exercise catalog: public cached reads, admin-only edits with optimistic locking."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status

from api.catalog_cache import CatalogCache, Rendered
from api.catalog_replay import replay_template
from api.deps import AdminUser, CatalogCacheDep, CatalogDep, Clock, SessionDep
from api.links import LOCATION_HEADER, links
from api.pagination import DEFAULT_LIMIT
from api.preconditions import none_match, parse_if_match
from api.problems import problem_responses
from api.routes.params import Cursor, Limit
from api.schemas.catalog import MAX_CAUTIONS, Category, Caution
from api.schemas.catalog_public import (
    EquipmentPage,
    ExercisePage,
    ExercisePublic,
    MusclePage,
    RevisionPage,
)
from api.schemas.exercise_in import ExerciseIn, ExercisePatch, ExerciseReplace
from api.services import catalog, catalog_admin
from api.services.catalog_snapshot import Snapshot

router = APIRouter(tags=["catalog"])

# The catalog changes rarely: let apps and proxies reuse it for 5 minutes, then
# revalidate with If-None-Match (a 304 costs almost nothing).
CATALOG_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"
NOT_CACHEABLE = "no-store"

IfNoneMatch = Annotated[str | None, Header(description="An ETag from an earlier response.")]
IfMatchHeader = Annotated[
    str | None,
    Header(description="The exercise's current ETag (required for PUT and PATCH)."),
]


def _send(
    rendered: Rendered,
    if_none_match: str | None = None,
    *,
    status_code: int = 200,
    cache_control: str = CATALOG_CACHE_CONTROL,
    headers: dict[str, str] | None = None,
) -> Response:
    out = {"ETag": rendered.etag, "Cache-Control": cache_control, **(headers or {})}
    if status_code == 200 and none_match(if_none_match, rendered.etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=out)
    return Response(
        content=rendered.body, status_code=status_code, media_type="application/json", headers=out
    )


def _serve(
    request: Request,
    cache: CatalogCache,
    snap: Snapshot,
    rendered: Rendered,
    if_none_match: str | None,
) -> Response:
    """Answer a public read, and let the fast path replay it for this exact URL."""
    path = request.scope["path"]
    cache.record(
        snap.version,
        path,
        request.scope["query_string"],
        rendered,
        CATALOG_CACHE_CONTROL,
        replay_template(path),
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
        "`q` searches names, summaries and aliases, ignoring case. `caution_free` (repeat "
        "it) leaves out exercises carrying any of those cautions."
    ),
    responses={304: {"description": "Not modified"}, **problem_responses(422)},
)
async def list_exercises(
    request: Request,
    cache: CatalogCacheDep,
    snap: CatalogDep,
    category: Annotated[
        Category | None, Query(description="Only exercises of this category.")
    ] = None,
    muscle: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Only exercises working this muscle, as primary or secondary (a slug "
            "from GET /v1/muscles; an unknown one is 422).",
        ),
    ] = None,
    equipment: Annotated[
        list[str] | None,
        Query(
            max_length=20,
            description="The equipment you have (slugs from GET /v1/equipment; repeat it or "
            "comma-separate): only exercises whose required equipment is all in it. `none`: "
            "only exercises that need nothing. An unknown slug is 422.",
        ),
    ] = None,
    max_difficulty: Annotated[
        int | None,
        Query(ge=1, le=5, description="Only exercises of this difficulty (1-5) or easier."),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Text to find in the name, summary or aliases, ignoring case.",
        ),
    ] = None,
    caution_free: Annotated[
        list[Caution] | None,
        Query(
            max_length=MAX_CAUTIONS,
            description="Only exercises with none of these cautions (e.g. spinal-flexion).",
        ),
    ] = None,
    include_archived: Annotated[
        bool, Query(description="Also list archived exercises (they carry `archived: true`).")
    ] = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    filters = catalog.filters_from_query(
        category, muscle, equipment, max_difficulty, q, include_archived, caution_free
    )
    rendered = catalog.list_exercises(cache, snap, filters, limit, cursor)
    return _serve(request, cache, snap, rendered, if_none_match)


@router.get(
    "/v1/exercises/{slug}",
    response_model=ExercisePublic,
    summary="One exercise, with steps, dose, muscles and variations",
    description=(
        "Public and cacheable (5 minutes): send the `ETag` back in `If-None-Match` for a "
        "304. An archived exercise is still served (`archived: true`), so deep links keep "
        "working; an unknown slug is 404. Admins send this `ETag` as `If-Match` to edit it."
    ),
    responses={304: {"description": "Not modified"}, **problem_responses(404)},
)
async def get_exercise(
    slug: str,
    request: Request,
    cache: CatalogCacheDep,
    snap: CatalogDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    rendered = catalog.get_exercise(cache, snap, slug)
    return _serve(request, cache, snap, rendered, if_none_match)


@router.get(
    "/v1/muscles",
    response_model=MusclePage,
    summary="Muscles the catalog refers to",
    description=(
        "Public and cacheable: send the `ETag` back in `If-None-Match` for a 304. Every "
        "muscle in one page (`next_cursor` is null); the slugs are what the `muscle` filter "
        "of GET /v1/exercises takes."
    ),
)
async def list_muscles(
    request: Request, cache: CatalogCacheDep, snap: CatalogDep, if_none_match: IfNoneMatch = None
) -> Response:
    return _serve(request, cache, snap, catalog.list_muscles(cache, snap), if_none_match)


@router.get(
    "/v1/equipment",
    response_model=EquipmentPage,
    summary="Equipment slugs and names",
    description=(
        "Public and cacheable: send the `ETag` back in `If-None-Match` for a 304. Every piece "
        "of equipment in one page (`next_cursor` is null); the slugs are what the `equipment` "
        "filter of GET /v1/exercises and the profile's `equipment` take."
    ),
)
async def list_equipment(
    request: Request, cache: CatalogCacheDep, snap: CatalogDep, if_none_match: IfNoneMatch = None
) -> Response:
    return _serve(request, cache, snap, catalog.list_equipment(cache, snap), if_none_match)


# --- admin ----------------------------------------------------------------------------

ADMIN_ERRORS = problem_responses(401, 403, 404, 409, 412, 422, 428)


def _written(rendered: Rendered, status_code: int = 200, **headers: str) -> Response:
    return _send(rendered, status_code=status_code, cache_control=NOT_CACHEABLE, headers=headers)


@router.post(
    "/v1/exercises",
    response_model=ExercisePublic,
    status_code=status.HTTP_201_CREATED,
    summary="Add an exercise (admin)",
    description=(
        "Admin token (403 otherwise). A slug already taken, by an archived exercise too, is "
        "409; unknown muscles or equipment, an `easier`/`harder` that does not exist or makes "
        "a loop, are 422 naming the field. The 201 carries `Location` and the `ETag` to send "
        "as `If-Match` on the first edit; a revision is recorded."
    ),
    responses={
        201: {
            **links(
                "/slug",
                "slug",
                "getExercise",
                "replaceExercise",
                "patchExercise",
                "archiveExercise",
                "listRevisions",
                if_match=("replaceExercise", "patchExercise", "archiveExercise"),
            ),
            "headers": {
                **LOCATION_HEADER,
                "ETag": {
                    "description": "The new exercise's version: send it as If-Match to edit it",
                    "schema": {"type": "string"},
                },
            },
        },
        **problem_responses(401, 403, 409, 422),
    },
)
def create_exercise(
    body: ExerciseIn, cache: CatalogCacheDep, admin: AdminUser, session: SessionDep, clock: Clock
) -> Response:
    rendered = catalog_admin.create_exercise(session, cache, body, admin.id, clock())
    return _written(rendered, 201, Location=f"/v1/exercises/{body.slug}")


@router.put(
    "/v1/exercises/{slug}",
    response_model=ExercisePublic,
    summary="Replace an exercise (admin; If-Match required)",
    description=(
        "Admin token. Every field is replaced by the body, whose `slug` must match the path "
        "(slugs never change); the archived state is kept. Send the current `ETag` (from GET "
        "or the last edit) as `If-Match`: without it 428, with an old one 412 (the problem "
        "carries `current_etag`: GET again, re-apply the edit, retry). The answer is the "
        "exercise with its new `ETag`; a revision is recorded."
    ),
    responses=ADMIN_ERRORS,
)
def replace_exercise(
    slug: str,
    body: ExerciseReplace,
    cache: CatalogCacheDep,
    admin: AdminUser,
    session: SessionDep,
    clock: Clock,
    if_match: IfMatchHeader = None,
) -> Response:
    return _written(
        catalog_admin.update_exercise(
            session,
            cache,
            slug,
            replacement=body,
            if_match=parse_if_match(if_match),
            actor_id=admin.id,
            now=clock(),
        )  # fmt: skip
    )


@router.patch(
    "/v1/exercises/{slug}",
    response_model=ExercisePublic,
    summary="Change some fields of an exercise, or restore it (admin; If-Match required)",
    description=(
        "Admin token. Only the fields sent change; `dose`, `muscles` and `equipment` are "
        "replaced whole, and `archived: false` restores an archived exercise. `If-Match` as "
        "for PUT: without it 428, with an old `ETag` 412. The exercise as merged is checked "
        "whole (422 names the field); the answer carries the new `ETag`."
    ),
    responses=ADMIN_ERRORS,
)
def patch_exercise(
    slug: str,
    body: ExercisePatch,
    cache: CatalogCacheDep,
    admin: AdminUser,
    session: SessionDep,
    clock: Clock,
    if_match: IfMatchHeader = None,
) -> Response:
    return _written(
        catalog_admin.update_exercise(
            session,
            cache,
            slug,
            patch=body,
            if_match=parse_if_match(if_match),
            actor_id=admin.id,
            now=clock(),
        )  # fmt: skip
    )


@router.delete(
    "/v1/exercises/{slug}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Archive an exercise (admin); PATCH archived=false restores it",
    description=(
        "Admin token. Nothing is deleted: the exercise leaves GET /v1/exercises (unless "
        "`include_archived=true`) but is still served by its slug, and a revision is "
        "recorded. `If-Match` is optional here; an old `ETag` is 412. Archiving an archived "
        "exercise changes nothing and is 204 too."
    ),
    responses=problem_responses(401, 403, 404, 412),
)
def archive_exercise(
    slug: str,
    cache: CatalogCacheDep,
    admin: AdminUser,
    session: SessionDep,
    clock: Clock,
    if_match: IfMatchHeader = None,
) -> None:
    catalog_admin.archive_exercise(
        session, cache, slug, if_match=parse_if_match(if_match), actor_id=admin.id, now=clock()
    )


@router.get(
    "/v1/exercises/{slug}/revisions",
    summary="Who changed an exercise, when, and how (admin)",
    description=(
        "Admin token. Newest first, one per version: the `action` (`create`, `update`, "
        "`archive`, `restore`), its `source` (`api` or `seed`), the admin (`actor_id`) and "
        "the exercise `before` and `after`. An unknown slug is 404."
    ),
    responses=problem_responses(401, 403, 404, 422),
)
def list_revisions(
    slug: str,
    admin: AdminUser,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> RevisionPage:
    items, next_cursor = catalog_admin.list_revisions(session, slug, limit=limit, cursor=cursor)
    return RevisionPage(items=items, next_cursor=next_cursor)
