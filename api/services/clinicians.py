"""Clinicians and their linked patients: the patient list and summary, plans, thresholds
and red-flag resolutions (invitations and links: api/services/clinician_links.py).

A clinician reaches a patient only through a link the patient made; every route
with a patient id checks it and answers 404 otherwise. Every change a clinician
makes is recorded for the patient to see in their export.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from api.domain.catalog import CatalogInfo
from api.domain.thresholds import DEFAULT_THRESHOLDS, SPEC, ThresholdError
from api.errors import FieldError, FieldIssue, NotFound
from api.models import (
    AdviceRow,
    CheckInRow,
    ClinicianLink,
    ClinicianPlan,
    OutcomeRow,
    SessionLogRow,
    TrainingSession,
    User,
    UserThresholds,
)
from api.pagination import keyset_page
from api.schemas.clinicians import (
    DoseCap,
    PatientPublic,
    PatientSummary,
    PlanIn,
    PlanPublic,
    ThresholdsPublic,
)
from api.schemas.pain import AdvicePublic, CheckInPublic, StoredAdvice
from api.services import screening
from api.services.advice import advice_public
from api.services.alerts import last_log
from api.services.care_team import RESOLVE_ACTION, record
from api.services.evaluation import evaluate_person
from api.services.instruments import load_instruments
from api.services.outcomes import public_many
from api.services.routine_views import active_items, session_public
from api.services.wearable_summaries import session_summaries

# --- patients -----------------------------------------------------------------------------


def patient_of(
    session: Session, clinician: User, patient_id: uuid.UUID
) -> tuple[User, ClinicianLink]:
    """The patient, if linked to this clinician; otherwise 404 (never reveal more)."""
    link_row = session.exec(
        select(ClinicianLink).where(
            ClinicianLink.clinician_id == clinician.id, ClinicianLink.user_id == patient_id
        )
    ).first()
    patient = session.get(User, patient_id) if link_row else None
    if link_row is None or patient is None:
        raise NotFound("No such patient.")
    return patient, link_row


def _last_activity(session: Session, patient_id: uuid.UUID) -> datetime | None:
    checkin = session.exec(
        select(CheckInRow.recorded_at)
        .where(CheckInRow.user_id == patient_id)
        .order_by(col(CheckInRow.recorded_at).desc())
        .limit(1)
    ).first()
    log = last_log(session, patient_id)
    return max((t for t in (checkin, log) if t is not None), default=None)


def _patient_public(session: Session, patient: User, link_row: ClinicianLink) -> PatientPublic:
    status = session.exec(
        select(AdviceRow.status)
        .where(AdviceRow.user_id == patient.id)
        .order_by(col(AdviceRow.evaluated_at).desc())
        .limit(1)
    ).first()
    screened, risk = screening.risk_factors_of(session, patient.id)
    return PatientPublic(
        id=patient.id,
        display_name=patient.display_name,
        email=patient.email,
        linked_at=link_row.created_at,
        advice_status=status,
        last_activity_at=_last_activity(session, patient.id),
        screened=screened,
        risk_factors=risk,
    )


def list_patients(
    session: Session, clinician: User, *, limit: int, cursor: str | None
) -> tuple[list[PatientPublic], str | None]:
    links, next_cursor = keyset_page(
        session,
        select(ClinicianLink).where(ClinicianLink.clinician_id == clinician.id),
        time_col=ClinicianLink.created_at,
        id_col=ClinicianLink.id,
        limit=limit,
        cursor=cursor,
    )
    out = []
    for link_row in links:
        patient = session.get(User, link_row.user_id)
        if patient is not None:
            out.append(_patient_public(session, patient, link_row))
    return out, next_cursor


def plan_public(plan: ClinicianPlan | None) -> PlanPublic:
    if plan is None:
        return PlanPublic(updated_by=None, updated_at=None)
    return PlanPublic(
        cleared=plan.cleared,
        start_dates={k: date.fromisoformat(v) for k, v in plan.start_dates.items()},
        caps={slug: DoseCap.model_validate(cap) for slug, cap in plan.caps.items()},
        updated_by=plan.updated_by,
        updated_at=plan.updated_at,
        cleared_under=plan.cleared_under,
        cleared_despite_screening=sorted(plan.cleared_under),
    )


def patient_summary(
    session: Session,
    clinician: User,
    patient_id: uuid.UUID,
    catalog: Mapping[str, CatalogInfo],
    now: datetime,
) -> PatientSummary:
    """What a clinician needs to review a patient. Reading it writes nothing."""
    patient, link_row = patient_of(session, clinician, patient_id)
    evaluation = evaluate_person(session, patient, now, catalog, record=False)
    checkins = session.exec(
        select(CheckInRow)
        .where(CheckInRow.user_id == patient.id)
        .order_by(col(CheckInRow.recorded_at).desc())
        .limit(30)
    ).all()
    sessions = session.exec(
        select(TrainingSession)
        .where(TrainingSession.user_id == patient.id)
        .order_by(col(TrainingSession.created_at).desc())
        .limit(20)
    ).all()
    ids = [s.id for s in sessions]
    logs = {
        log.session_id: log
        for log in session.exec(
            select(SessionLogRow).where(col(SessionLogRow.session_id).in_(ids))
        ).all()
    }
    summaries = session_summaries(session, ids)
    history = session.exec(
        select(AdviceRow)
        .where(AdviceRow.user_id == patient.id)
        .order_by(col(AdviceRow.evaluated_at).desc())
        .limit(20)
    ).all()
    thresholds = session.get(UserThresholds, patient.id)
    measures = session.exec(
        select(OutcomeRow)
        .where(OutcomeRow.user_id == patient.id)
        .order_by(col(OutcomeRow.recorded_at).desc(), col(OutcomeRow.id).desc())
        .limit(20)
    ).all()
    advice: AdvicePublic = advice_public(evaluation.advice)
    return PatientSummary(
        patient=_patient_public(session, patient, link_row),
        advice=advice,
        routine=active_items(evaluation, evaluation.today(patient.timezone)),
        plan=plan_public(session.get(ClinicianPlan, patient.id)),
        thresholds=dict(thresholds.values) if thresholds else {},
        checkins=[CheckInPublic.model_validate(c, from_attributes=True) for c in checkins],
        sessions=[session_public(s, logs.get(s.id), summaries.get(s.id)) for s in sessions],
        advice_history=[StoredAdvice.model_validate(a, from_attributes=True) for a in history],
        outcomes=public_many(session, patient.id, list(measures), load_instruments()),
        screening=screening.screening_history(session, patient.id),
        screening_outcome=screening.outcome_public(evaluation.screen, catalog),
    )


def put_plan(
    session: Session,
    clinician: User,
    patient_id: uuid.UUID,
    body: PlanIn,
    catalog: Mapping[str, CatalogInfo],
    now: datetime,
) -> PlanPublic:
    patient, _ = patient_of(session, clinician, patient_id)
    known = set(catalog)
    errors: list[FieldIssue] = []
    if set(body.cleared_despite_screening) - set(body.cleared or []):
        errors.append(("cleared_despite_screening", "each must also be in cleared", "conflict"))
    for field, slugs in (
        ("cleared", body.cleared or []),
        ("start_dates", list(body.start_dates)),
        ("caps", list(body.caps)),
    ):
        unknown = sorted(set(slugs) - known)
        if unknown:
            errors.append((field, f"unknown exercise(s): {', '.join(unknown)}", "unknown"))
    if errors:
        raise FieldError(errors)
    plan = session.get(ClinicianPlan, patient.id) or ClinicianPlan(user_id=patient.id)
    plan.cleared = sorted(set(body.cleared)) if body.cleared is not None else None
    plan.start_dates = {k: v.isoformat() for k, v in body.start_dates.items()}
    plan.caps = {k: v.model_dump(exclude_none=True) for k, v in body.caps.items()}
    # Recorded as cleared despite the answers in force now, and only those.
    plan.cleared_under = screening.cleared_under_now(
        session, patient, catalog, now, plan.cleared, body.cleared_despite_screening,
        plan.cleared_under or {},
    )  # fmt: skip
    plan.updated_by = clinician.id
    plan.updated_at = now
    session.add(plan)
    details = {**body.model_dump(mode="json"), "cleared_under": plan.cleared_under}
    record(session, patient.id, clinician.id, "set_routine", details, now)
    # A clinician's change is a write: doses and advice follow it at once.
    evaluate_person(session, patient, now, catalog, record=True)
    session.commit()
    return plan_public(plan)


def thresholds_public(values: dict[str, float]) -> ThresholdsPublic:
    return ThresholdsPublic(
        values=values,
        defaults={name: float(spec[0]) for name, spec in SPEC.items()},
        bounds={name: (spec[1].low, spec[1].high) for name, spec in SPEC.items()},
    )


def put_thresholds(
    session: Session,
    clinician: User,
    patient_id: uuid.UUID,
    values: dict[str, Any],
    catalog: Mapping[str, CatalogInfo],
    now: datetime,
) -> ThresholdsPublic:
    patient, _ = patient_of(session, clinician, patient_id)
    try:
        DEFAULT_THRESHOLDS.with_overrides(values)
    except ThresholdError as exc:
        raise FieldError([(exc.field, exc.message, exc.kind)]) from exc
    row = session.get(UserThresholds, patient.id) or UserThresholds(user_id=patient.id)
    row.values = {k: float(v) for k, v in values.items()}
    row.updated_by = clinician.id
    row.updated_at = now
    session.add(row)
    record(session, patient.id, clinician.id, "set_thresholds", dict(row.values), now)
    # A clinician's change is a write: doses and advice follow it at once.
    evaluate_person(session, patient, now, catalog, record=True)
    session.commit()
    return thresholds_public(dict(row.values))


def resolve_red_flags(
    session: Session,
    clinician: User,
    patient_id: uuid.UUID,
    catalog: Mapping[str, CatalogInfo],
    now: datetime,
) -> AdvicePublic:
    """The clinician has seen the patient: their red flags up to now are resolved."""
    patient, _ = patient_of(session, clinician, patient_id)
    record(session, patient.id, clinician.id, RESOLVE_ACTION, {}, now)
    session.flush()
    advice = evaluate_person(session, patient, now, catalog, record=True).advice
    session.commit()
    return advice_public(advice)
