"""Clinicians and their patients. A clinician reaches only patients linked to them."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from api.deps import (
    CatalogDep,
    ClinicianUser,
    Clock,
    CurrentUser,
    SessionDep,
    client_address,
)
from api.links import answer_create, links
from api.pagination import DEFAULT_LIMIT
from api.problems import problem_responses
from api.routes.params import SINCE_DOC, Cursor, Limit, Since
from api.schemas.clinicians import (
    AlertPage,
    AlertPublic,
    InvitationPublic,
    LinkCreate,
    LinkPage,
    LinkPublic,
    PatientPage,
    PatientSummary,
    PlanIn,
    PlanPublic,
    ThresholdsIn,
    ThresholdsPublic,
)
from api.schemas.common import Removed
from api.schemas.pain import AdvicePublic
from api.services import alerts, clinician_links, clinicians

router = APIRouter(tags=["clinicians"], responses=problem_responses(401))
PATIENT_ERRORS = problem_responses(403, 404)


@router.post(
    "/v1/clinician/invitations",
    status_code=status.HTTP_201_CREATED,
    summary="A single-use code a patient enters to link to you (clinician)",
    description="Each code lasts 7 days; at most 20 unused ones at a time (409 past that).",
    responses=problem_responses(403, 409),
)
def create_invitation(
    clinician: ClinicianUser, session: SessionDep, clock: Clock
) -> InvitationPublic:
    return clinician_links.create_invitation(session, clinician, clock())


@router.post(
    "/v1/me/clinicians",
    status_code=status.HTTP_201_CREATED,
    summary="Link a clinician with their invitation code",
    responses={
        201: links("/id", "link_id", "unlinkClinician", replays=True),
        **problem_responses(422, 429),
    },
    description="The code sent again (a retry after a lost answer), or a code of a "
    "clinician this patient is linked to already, answers 201 with that link, marked "
    "`Idempotent-Replayed: true`. Wrong codes are counted per account (10) and per client "
    "address (50) within 15 minutes; past either, 429 with Retry-After.",
)
def link_clinician(
    body: LinkCreate,
    request: Request,
    response: Response,
    user: CurrentUser,
    session: SessionDep,
    clock: Clock,
) -> LinkPublic:
    address = client_address(request)
    link, created = clinician_links.link(session, user, body.code, clock(), address)
    answer_create(response, f"/v1/me/clinicians/{link.id}", created)
    return link


@router.get(
    "/v1/me/clinicians",
    summary="My linked clinicians; `since` for delta sync, with ended links",
    description=SINCE_DOC
    + " A link is changed when it is made, and when its clinician's name or address changes.",
    responses=problem_responses(422),
)
def list_my_clinicians(
    user: CurrentUser,
    session: SessionDep,
    since: Since = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> LinkPage:
    items, gone, next_cursor = clinician_links.list_links(
        session, user, since=since, limit=limit, cursor=cursor
    )
    return LinkPage(
        items=items, deleted=[Removed.model_validate(t) for t in gone], next_cursor=next_cursor
    )


@router.delete(
    "/v1/me/clinicians/{link_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Unlink a clinician; they lose access at once",
    description=(
        "Person token. The clinician no longer sees you or gets alerts about you, and the "
        "clearances they gave despite your screening answers end (a new link does not bring "
        "them back). The link is listed in `deleted` by a GET /v1/me/clinicians delta; "
        "another person's link or an unknown id is 404."
    ),
    responses=problem_responses(404),
)
def unlink_clinician(
    link_id: uuid.UUID, user: CurrentUser, session: SessionDep, clock: Clock
) -> None:
    clinician_links.remove_link(session, user, link_id, clock())


@router.get(
    "/v1/patients",
    summary="My linked patients (clinician)",
    description=(
        "Clinician token (403 otherwise). Oldest link first; each patient with their latest "
        "stored advice status, last activity (check-in or logged session), whether they have "
        "answered the screening, and its risk factors."
    ),
    responses=problem_responses(403, 422),
)
def list_patients(
    clinician: ClinicianUser,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PatientPage:
    items, next_cursor = clinicians.list_patients(session, clinician, limit=limit, cursor=cursor)
    return PatientPage(items=items, next_cursor=next_cursor)


@router.get(
    "/v1/patients/{patient_id}/summary",
    summary="A patient's routine, check-ins, sessions and advice (clinician)",
    description=(
        "Clinician token; a patient not linked to you is 404, as an unknown id is. The "
        "advice evaluated now, today's routine, your plan and their thresholds, the latest "
        "30 check-ins, 20 sessions and 20 advice changes, and the screening with what it "
        "rules out. Reading it writes nothing."
    ),
    responses=PATIENT_ERRORS,
)
def get_patient_summary(
    patient_id: uuid.UUID,
    clinician: ClinicianUser,
    session: SessionDep,
    clock: Clock,
    catalog: CatalogDep,
) -> PatientSummary:
    return clinicians.patient_summary(session, clinician, patient_id, catalog.rule_catalog, clock())


@router.put(
    "/v1/patients/{patient_id}/routine",
    summary="Clear exercises, schedule starts and cap doses for a patient (clinician)",
    description="`cleared` lists the only exercises built for the patient. Listing one "
    "that the patient's screening rules out (a caution, spinal surgery, under 16) clears "
    "it despite that: the answer returns it in `cleared_under` and the patient's export "
    "records it. Such a clearance covers the answers in force now only; a later answer "
    "rules the exercise out again, and you are alerted.",
    responses={**PATIENT_ERRORS, **problem_responses(422)},
)
def put_patient_routine(
    patient_id: uuid.UUID,
    body: PlanIn,
    clinician: ClinicianUser,
    session: SessionDep,
    clock: Clock,
    catalog: CatalogDep,
) -> PlanPublic:
    return clinicians.put_plan(session, clinician, patient_id, body, catalog.rule_catalog, clock())


@router.put(
    "/v1/patients/{patient_id}/thresholds",
    summary="Tune a patient's rule thresholds within safe bounds (clinician)",
    description="Each value must stay within its bound (see `bounds`), and "
    "`during_pain_safe_max` below `during_pain_max` (as given, or as they stand): else 422 "
    "naming the field. Red-flag rules have no thresholds and cannot be switched off. An "
    "empty object restores the defaults.",
    responses={**PATIENT_ERRORS, **problem_responses(422)},
)
def put_patient_thresholds(
    patient_id: uuid.UUID,
    body: ThresholdsIn,
    clinician: ClinicianUser,
    session: SessionDep,
    clock: Clock,
    catalog: CatalogDep,
) -> ThresholdsPublic:
    return clinicians.put_thresholds(
        session, clinician, patient_id, body.overrides(), catalog.rule_catalog, clock()
    )


@router.post(
    "/v1/patients/{patient_id}/red-flags/resolve",
    summary="Record that you have seen the patient about their red flags (clinician)",
    description=(
        "Clinician token; linked patients only (404 otherwise). The red flags the patient "
        "reported up to now count as assessed (a flag reported later stands again), and the "
        "advice is evaluated anew and returned. The resolution is in the patient's export."
    ),
    responses=PATIENT_ERRORS,
)
def resolve_red_flags(
    patient_id: uuid.UUID,
    clinician: ClinicianUser,
    session: SessionDep,
    clock: Clock,
    catalog: CatalogDep,
) -> AdvicePublic:
    return clinicians.resolve_red_flags(
        session, clinician, patient_id, catalog.rule_catalog, clock()
    )


@router.get(
    "/v1/alerts",
    summary="Patients who need attention, newest first, until acknowledged (clinician)",
    description=(
        "Clinician token. Open alerts about patients linked to you: advice that turned to "
        "`see_doctor` or `urgent_care`, and no session logged for 7 days (`inactive`), each "
        "with the patient's risk factors. Some are worked out on each read (reading writes "
        "nothing), so their ids are stable and can be acknowledged like stored ones."
    ),
    responses=problem_responses(403),
)
def list_alerts(
    clinician: ClinicianUser,
    session: SessionDep,
    clock: Clock,
    catalog: CatalogDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> AlertPage:
    items, next_cursor = alerts.list_alerts(
        session, clinician, catalog.rule_catalog, clock(), limit=limit, cursor=cursor
    )
    return AlertPage(items=items, next_cursor=next_cursor)


@router.post(
    "/v1/alerts/{alert_id}/ack",
    summary="Acknowledge an alert (clinician)",
    description=(
        "Clinician token. The alert leaves GET /v1/alerts and is returned with "
        "`acknowledged_at`; acknowledging it again returns it unchanged, so a retry is safe. "
        "Another clinician's alert, or one about a patient no longer linked to you, is 404."
    ),
    responses=PATIENT_ERRORS,
)
def ack_alert(
    alert_id: uuid.UUID,
    clinician: ClinicianUser,
    session: SessionDep,
    clock: Clock,
    catalog: CatalogDep,
) -> AlertPublic:
    return alerts.ack_alert(session, clinician, alert_id, catalog.rule_catalog, clock())
