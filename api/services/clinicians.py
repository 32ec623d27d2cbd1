"""Clinicians: invitations and links, patients' plans and thresholds, alerts.

A clinician reaches a patient only through a link the patient made; every route
with a patient id checks it and answers 404 otherwise. Every change a clinician
makes is recorded for the patient to see in their export.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from api.domain.catalog import CatalogInfo
from api.domain.thresholds import DEFAULT_THRESHOLDS, SPEC, ThresholdError
from api.errors import Conflict, FieldError, FieldIssue, NotFound
from api.models import (
    AdviceRow,
    CheckInRow,
    ClinicianInvitation,
    ClinicianLink,
    ClinicianPlan,
    SessionLogRow,
    TrainingSession,
    User,
    UserThresholds,
)
from api.pagination import keyset_page
from api.schemas.clinicians import (
    DoseCap,
    InvitationPublic,
    LinkPublic,
    PatientPublic,
    PatientSummary,
    PersonRef,
    PlanIn,
    PlanPublic,
    ThresholdsPublic,
)
from api.schemas.pain import AdvicePublic, CheckInPublic, StoredAdvice
from api.services import screening, throttle
from api.services.advice import advice_public
from api.services.alerts import last_log
from api.services.care_team import RESOLVE_ACTION, record
from api.services.evaluation import evaluate_person
from api.services.routine_views import active_items, session_public
from api.services.store import insert_or_existing
from api.services.wearable_summaries import session_summaries

INVITATION_LIFETIME = timedelta(days=7)
# Unambiguous letters and digits (no 0/O, 1/I/L): read aloud or typed from paper.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
# Codes are 8 characters of 31 (about 40 bits): guessing one must stay hopeless, so wrong
# codes are counted like wrong passwords (per account and per client address, in the
# database every process shares) and a clinician holds a bounded number of live codes.
CODE_GUESSES_PER_ACCOUNT = 10
CODE_GUESSES_PER_ADDRESS = 50
CODE_GUESS_WINDOW = timedelta(minutes=15)
MAX_OUTSTANDING_CODES = 20
WRONG_CODES = "wrong invitation codes"


def _digest(code: str) -> str:
    normal = code.replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(normal.encode()).hexdigest()


# --- invitations and links ---------------------------------------------------------------


def create_invitation(session: Session, clinician: User, now: datetime) -> InvitationPublic:
    # A write first, to the clinician's row: a second request at the same moment waits
    # here until this one commits (PostgreSQL: the row's lock; SQLite: the write lock),
    # so its count below cannot miss this code and the cap holds under a burst.
    session.exec(
        update(User).where(col(User.id) == clinician.id).values(updated_at=User.updated_at)
    )
    outstanding = session.exec(
        select(func.count())
        .select_from(ClinicianInvitation)
        .where(
            col(ClinicianInvitation.clinician_id) == clinician.id,
            col(ClinicianInvitation.used_at).is_(None),
            col(ClinicianInvitation.expires_at) > now,
        )
    ).one()
    if outstanding >= MAX_OUTSTANDING_CODES:
        raise Conflict(
            f"You have {outstanding} unused invitation codes; a new one can be made when one "
            "is used or expires (codes last 7 days)."
        )
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    shown = f"{code[:4]}-{code[4:]}"
    invitation = ClinicianInvitation(
        clinician_id=clinician.id,
        code_hash=_digest(code),
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    session.add(invitation)
    session.commit()
    return InvitationPublic(code=shown, expires_at=invitation.expires_at)


def _link_public(session: Session, link: ClinicianLink) -> LinkPublic:
    clinician = session.get(User, link.clinician_id)
    assert clinician is not None
    return LinkPublic(
        id=link.id,
        clinician=PersonRef(
            id=clinician.id, display_name=clinician.display_name, email=clinician.email
        ),
        created_at=link.created_at,
    )


def _guess_limits(patient: User, address: str) -> list[throttle.Limit]:
    return [
        throttle.Limit(f"code-account:{patient.id}", CODE_GUESSES_PER_ACCOUNT, CODE_GUESS_WINDOW),
        throttle.Limit(
            f"code-address:{throttle.client_group(address)}",
            CODE_GUESSES_PER_ADDRESS,
            CODE_GUESS_WINDOW,
        ),
    ]


def _linked_with(
    session: Session, invitation: ClinicianInvitation, patient: User
) -> LinkPublic | None:
    """The link this code made for this patient, if it made one that still stands: a
    retry after a lost response gets it again. Using a code stamps the code and the link
    with the same instant, so a link made later (after unlinking) is not taken for it."""
    if invitation.used_at is None:
        return None
    # At or before: a patient already linked keeps the link they had (the code was
    # claimed all the same, and its retry gets that link too).
    made = session.exec(
        select(ClinicianLink).where(
            ClinicianLink.clinician_id == invitation.clinician_id,
            ClinicianLink.user_id == patient.id,
            col(ClinicianLink.created_at) <= invitation.used_at,
        )
    ).first()
    if made is None:
        return None
    session.commit()  # nothing written; ends the read transaction like the other paths
    return _link_public(session, made)


def link(
    session: Session, patient: User, code: str, now: datetime, address: str = "unknown"
) -> tuple[LinkPublic, bool]:
    """Link the caller to the inviting clinician. Returns (link, newly created)."""
    limits = _guess_limits(patient, address)
    throttle.refuse_while_locked(session, limits, now, WRONG_CODES)
    invitation = session.exec(
        select(ClinicianInvitation).where(ClinicianInvitation.code_hash == _digest(code))
    ).first()
    invalid = FieldError(
        [("code", "unknown, already used or expired invitation code", "invalid_code")]
    )
    retried = _linked_with(session, invitation, patient) if invitation is not None else None
    if retried is not None:
        return retried, False
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= now:
        throttle.count_failure(session, limits, now, WRONG_CODES)
        raise invalid
    # Claim the code atomically: of two patients using it at once, one links.
    claimed = session.exec(
        update(ClinicianInvitation)
        .where(
            col(ClinicianInvitation.id) == invitation.id,
            col(ClinicianInvitation.used_at).is_(None),
        )
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        session.rollback()
        # The same patient sent it twice at once: the other request linked them.
        session.refresh(invitation)
        retried = _linked_with(session, invitation, patient)
        if retried is not None:
            return retried, False
        raise invalid
    clinician = session.get(User, invitation.clinician_id)
    if clinician is None or clinician.role != "clinician":
        raise FieldError([("code", "this invitation is no longer valid", "invalid_code")])
    if clinician.id == patient.id:
        raise FieldError([("code", "you cannot link yourself", "not_allowed")])

    def existing_link() -> ClinicianLink | None:
        return session.exec(
            select(ClinicianLink).where(
                ClinicianLink.clinician_id == clinician.id, ClinicianLink.user_id == patient.id
            )
        ).first()

    existing = existing_link()
    if existing is not None:
        session.commit()
        return _link_public(session, existing), False
    new = ClinicianLink(clinician_id=clinician.id, user_id=patient.id, created_at=now)
    # The same patient linking the same clinician twice at once keeps the one link.
    existing = insert_or_existing(session, new, existing_link)
    if existing is not None:
        return _link_public(session, existing), False
    record(session, patient.id, clinician.id, "linked", {"by": "patient"}, now)
    session.commit()
    return _link_public(session, new), True


def list_links(
    session: Session, patient: User, *, limit: int = 100, cursor: str | None = None
) -> tuple[list[LinkPublic], str | None]:
    links, next_cursor = keyset_page(
        session,
        select(ClinicianLink).where(ClinicianLink.user_id == patient.id),
        time_col=ClinicianLink.created_at,
        id_col=ClinicianLink.id,
        limit=limit,
        cursor=cursor,
    )
    return [_link_public(session, link) for link in links], next_cursor


def remove_link(session: Session, patient: User, link_id: uuid.UUID, now: datetime) -> None:
    link_row = session.get(ClinicianLink, link_id)
    if link_row is None or link_row.user_id != patient.id:
        raise NotFound("No such link.")
    record(session, patient.id, link_row.clinician_id, "unlinked", {"by": "patient"}, now)
    plan = session.get(ClinicianPlan, patient.id)
    if plan is not None and plan.updated_by == link_row.clinician_id and plan.cleared_under:
        # Their clearances despite screening answers end with the link (a new link does
        # not bring them back); the list of cleared exercises stays, as it only narrows.
        plan.cleared_under = {}
        session.add(plan)
    session.delete(link_row)
    session.commit()


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
