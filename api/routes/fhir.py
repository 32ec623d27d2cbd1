"""The record as FHIR R4 (issue 19): the person's own, and a linked patient's (clinician)."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from api.deps import CatalogDep, ClinicianUser, Clock, CurrentUser, InstrumentsDep, SessionDep
from api.models import User
from api.problems import problem_responses
from api.routes.params import Cursor
from api.schemas.fhir import FhirBundle
from api.schemas.types import Instant
from api.services import clinicians, fhir
from api.services.catalog_snapshot import Snapshot

router = APIRouter(tags=["fhir"], responses=problem_responses(401, 422))

FhirSince = Annotated[
    Instant | None,
    Query(
        alias="_since",
        description="Incremental pull: only records (check-ins, outcomes, sessions) changed "
        "at or after this moment (an ISO 8601 date-time with an offset). The Patient and "
        "the routine lead every page whatever their age, since the records refer to them. "
        "Pass the `Date` header of your previous pull's first response, less a minute.",
    ),
]
FhirCount = Annotated[
    int,
    Query(
        alias="_count",
        ge=1,
        le=fhir.MAX_COUNT,
        description=f"Resources per page (1-{fhir.MAX_COUNT}) of check-ins, outcomes and "
        "sessions, besides the Patient, the routine and the Questionnaires every page "
        "carries; an outcome's QuestionnaireResponse and score Observation stay on one "
        "page, so it may hold one more.",
    ),
]


class FhirJSON(JSONResponse):
    """JSON as FHIR names it; a JSONResponse, so the document gives its schema as is."""

    media_type = fhir.MEDIA_TYPE


BUNDLE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"model": FhirBundle, "description": "A collection Bundle (`application/fhir+json`)"}
}
DESCRIPTION = (
    "The record as FHIR R4 resources in a `collection` Bundle. Every page starts with the "
    "Patient and the routine as GET /v1/routine prescribes it: a CarePlan with one "
    "ServiceRequest per exercise (SNOMED 229065009 exercise therapy; the sets in "
    "`quantityQuantity`, the dose in words in `note`; `active` when prescribed now, "
    "`on-hold` when in the routine but not today, `revoked` when taken out of it). Then "
    "the page's records: every pain check-in as an Observation (LOINC 72514-3, "
    "`valueInteger`, `effectiveDateTime` at the offset it was recorded with, the phase "
    "as a component); each outcome measure as a QuestionnaireResponse and an Observation "
    "of its score (ODI: LOINC 97909-6) with its band as the interpretation; each logged "
    "session as a Procedure. Last, the Questionnaires the page's answers refer to "
    "(STarT Back's names LOINC panel 91349-1, the ODI's 97908-8). Every reference "
    "resolves within its page. Ids are stable, so pulling again updates rather than "
    "duplicates; `meta.lastUpdated` says when each changed. Pages follow `link` `next` "
    "(keyset: no page skips or repeats a record that did not change meanwhile). Reading "
    "it writes nothing."
)


def _answer(
    request: Request,
    session: SessionDep,
    who: User,
    catalog: Snapshot,
    instruments: InstrumentsDep,
    since: Any,
    count: int,
    cursor: str | None,
    now: Any,
) -> Response:
    page = fhir.export_page(
        session, who, catalog=catalog, instruments=instruments, now=now, since=since,
        count=count, cursor=cursor,
    )  # fmt: skip
    here = request.url
    self_url = here.path + (f"?{here.query}" if here.query else "")
    next_url = None
    if page.next_cursor is not None:
        following = here.include_query_params(cursor=page.next_cursor)
        next_url = f"{following.path}?{following.query}"
    body = fhir.bundle(page, self_url, next_url, now)
    return Response(json.dumps(body, separators=(",", ":")), media_type=fhir.MEDIA_TYPE)


@router.get(
    "/v1/me/fhir",
    summary="My whole record as FHIR R4 (a collection Bundle)",
    description="Person token. " + DESCRIPTION,
    response_class=FhirJSON,
    response_model=None,
    responses=BUNDLE_RESPONSE,
)
def get_my_fhir(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    clock: Clock,
    catalog: CatalogDep,
    instruments: InstrumentsDep,
    since: FhirSince = None,
    count: FhirCount = fhir.DEFAULT_COUNT,
    cursor: Cursor = None,
) -> Response:
    return _answer(request, session, user, catalog, instruments, since, count, cursor, clock())


@router.get(
    "/v1/patients/{patient_id}/fhir",
    summary="A patient's whole record as FHIR R4 (clinician)",
    description="Clinician token; a patient not linked to you is 404, as an unknown id is. "
    + DESCRIPTION,
    response_class=FhirJSON,
    response_model=None,
    responses={**BUNDLE_RESPONSE, **problem_responses(403, 404)},
)
def get_patient_fhir(
    request: Request,
    patient_id: uuid.UUID,
    clinician: ClinicianUser,
    session: SessionDep,
    clock: Clock,
    catalog: CatalogDep,
    instruments: InstrumentsDep,
    since: FhirSince = None,
    count: FhirCount = fhir.DEFAULT_COUNT,
    cursor: Cursor = None,
) -> Response:
    patient, _ = clinicians.patient_of(session, clinician, patient_id)
    return _answer(request, session, patient, catalog, instruments, since, count, cursor, clock())
