"""The Health Connect segment-type mapping: read by anyone signed in, set by admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from api.deps import AdminUser, CatalogDep, Clock, CurrentUser, SessionDep
from api.problems import problem_responses
from api.schemas.segment_types import (
    SEGMENT_TYPE_PATTERN,
    SegmentTypeIn,
    SegmentTypeList,
    SegmentTypePublic,
)
from api.services import segment_mappings

router = APIRouter(tags=["wearable"])

SegmentType = Annotated[
    str,
    Path(
        pattern=SEGMENT_TYPE_PATTERN,
        description="Health Connect's name for the type (`EXERCISE_SEGMENT_TYPE_CRUNCH`)",
    ),
]


@router.get(
    "/v1/health-connect/segment-types",
    summary="Which catalog exercise each Health Connect segment type counts",
    description=(
        "Any signed-in caller. Imports (`POST /v1/wearable/imports/health-connect`) count a "
        "segment's repetitions for the exercise its type maps to; a type mapped to none is "
        "kept and counts nothing, and a type not listed is kept and reported as unmapped."
    ),
    responses=problem_responses(401),
)
def list_segment_types(_user: CurrentUser, session: SessionDep) -> SegmentTypeList:
    rows = segment_mappings.listed(session)
    return SegmentTypeList(
        items=[SegmentTypePublic.model_validate(r, from_attributes=True) for r in rows]
    )


@router.put(
    "/v1/health-connect/segment-types/{segment_type}",
    summary="Map a Health Connect segment type to a catalog exercise, or to none (admin)",
    description=(
        "Admin token. Sets the mapping for imports from now on (stored recordings keep "
        "what they counted); 201 when the type was not known before, 200 otherwise. A "
        "later seed run keeps what an admin set unless forced. The exercise must be in "
        "the catalog and not archived (422 naming `exercise_slug`)."
    ),
    responses={201: {"model": SegmentTypePublic}, **problem_responses(401, 403, 422)},
)
def put_segment_type(
    segment_type: SegmentType,
    body: SegmentTypeIn,
    response: Response,
    admin: AdminUser,
    session: SessionDep,
    clock: Clock,
    catalog: CatalogDep,
) -> SegmentTypePublic:
    archived = {slug: ex.archived for slug, ex in catalog.by_slug.items()}
    row, created = segment_mappings.set_mapping(
        session, segment_type, body.exercise_slug, admin.id, archived, clock()
    )
    if created:
        response.status_code = status.HTTP_201_CREATED
    return SegmentTypePublic.model_validate(row, from_attributes=True)
