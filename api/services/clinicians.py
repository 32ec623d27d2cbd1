"""Clinicians: invitations and links, patients' plans and thresholds, alerts.

A clinician reaches a patient only through a link the patient made; every route
with a patient id checks it and answers 404 otherwise. Every change a clinician
makes is recorded for the patient to see in their export.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.domain.thresholds import DEFAULT_THRESHOLDS, SPEC, ThresholdError
from api.domain.types import Dose
from api.errors import FieldError, NotFound
from api.models import (
    AdviceRow,
    Alert,
    CheckInRow,
    ClinicianAction,
    ClinicianInvitation,
    ClinicianLink,
    ClinicianPlan,
    Exercise,
    SessionLogRow,
    TrainingSession,
    User,
    UserThresholds,
)
from api.pagination import keyset_page
from api.schemas.clinicians import (
    AlertPublic,
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

INVITATION_LIFETIME = timedelta(days=7)
# Unambiguous letters and digits (no 0/O, 1/I/L): read aloud or typed from paper.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
# "Stopped logging for 7 days" (issue 8).
INACTIVE_AFTER = timedelta(days=7)
RESOLVE_ACTION = "resolve_red_flags"


def _digest(code: str) -> str:
    normal = code.replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(normal.encode()).hexdigest()


def record(
    session: Session, patient_id: uuid.UUID, clinician_id: uuid.UUID | None, action: str,
    details: dict[str, Any], now: datetime,
) -> None:  # fmt: skip
    session.add(
        ClinicianAction(
            user_id=patient_id, clinician_id=clinician_id, action=action, details=details, at=now
        )
    )


# --- invitations and links ---------------------------------------------------------------


def create_invitation(session: Session, clinician: User, now: datetime) -> InvitationPublic:
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


def link(session: Session, patient: User, code: str, now: datetime) -> tuple[LinkPublic, bool]:
    """Link the caller to the inviting clinician. Returns (link, newly created)."""
    invitation = session.exec(
        select(ClinicianInvitation).where(ClinicianInvitation.code_hash == _digest(code))
    ).first()
    invalid = FieldError([("code", "unknown, already used or expired invitation code")])
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= now:
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
        raise invalid
    clinician = session.get(User, invitation.clinician_id)
    if clinician is None or clinician.role != "clinician":
        raise FieldError([("code", "this invitation is no longer valid")])
    if clinician.id == patient.id:
        raise FieldError([("code", "you cannot link yourself")])
    existing = session.exec(
        select(ClinicianLink).where(
            ClinicianLink.clinician_id == clinician.id, ClinicianLink.user_id == patient.id
        )
    ).first()
    if existing is not None:
        session.commit()
        return _link_public(session, existing), False
    new = ClinicianLink(clinician_id=clinician.id, user_id=patient.id, created_at=now)
    session.add(new)
    record(session, patient.id, clinician.id, "linked", {"by": "patient"}, now)
    try:
        session.commit()
    except IntegrityError:
        # The same patient linked the same clinician twice at once: keep the one link.
        session.rollback()
        existing = session.exec(
            select(ClinicianLink).where(
                ClinicianLink.clinician_id == clinician.id, ClinicianLink.user_id == patient.id
            )
        ).first()
        if existing is None:
            raise
        return _link_public(session, existing), False
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
    session.delete(link_row)
    session.commit()


def linked_clinicians(session: Session, patient_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        session.exec(
            select(ClinicianLink.clinician_id).where(ClinicianLink.user_id == patient_id)
        ).all()
    )


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
    log = _last_log(session, patient_id)
    return max((t for t in (checkin, log) if t is not None), default=None)


def _last_log(session: Session, patient_id: uuid.UUID) -> datetime | None:
    return session.exec(
        select(SessionLogRow.started_at)
        .where(SessionLogRow.user_id == patient_id)
        .order_by(col(SessionLogRow.started_at).desc())
        .limit(1)
    ).first()


def _patient_public(session: Session, patient: User, link_row: ClinicianLink) -> PatientPublic:
    status = session.exec(
        select(AdviceRow.status)
        .where(AdviceRow.user_id == patient.id)
        .order_by(col(AdviceRow.evaluated_at).desc())
        .limit(1)
    ).first()
    return PatientPublic(
        id=patient.id,
        display_name=patient.display_name,
        email=patient.email,
        linked_at=link_row.created_at,
        advice_status=status,
        last_activity_at=_last_activity(session, patient.id),
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
    )


def patient_summary(
    session: Session, clinician: User, patient_id: uuid.UUID, now: datetime
) -> PatientSummary:
    from api.services.advice import advice_public, evaluate_and_apply
    from api.services.training import active_items, session_public
    from api.services.wearable import session_summaries

    patient, link_row = patient_of(session, clinician, patient_id)
    evaluation = evaluate_and_apply(session, patient.id, now)
    session.commit()
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
        routine=active_items(evaluation),
        plan=plan_public(session.get(ClinicianPlan, patient.id)),
        thresholds=dict(thresholds.values) if thresholds else {},
        checkins=[CheckInPublic.model_validate(c, from_attributes=True) for c in checkins],
        sessions=[session_public(s, logs.get(s.id), summaries.get(s.id)) for s in sessions],
        advice_history=[StoredAdvice.model_validate(a, from_attributes=True) for a in history],
    )


def put_plan(
    session: Session, clinician: User, patient_id: uuid.UUID, body: PlanIn, now: datetime
) -> PlanPublic:
    patient, _ = patient_of(session, clinician, patient_id)
    known = set(session.exec(select(Exercise.slug)).all())
    errors: list[tuple[str, str]] = []
    for field, slugs in (
        ("cleared", body.cleared or []),
        ("start_dates", list(body.start_dates)),
        ("caps", list(body.caps)),
    ):
        unknown = sorted(set(slugs) - known)
        if unknown:
            errors.append((field, f"unknown exercise(s): {', '.join(unknown)}"))
    if errors:
        raise FieldError(errors)
    plan = session.get(ClinicianPlan, patient.id) or ClinicianPlan(user_id=patient.id)
    plan.cleared = sorted(set(body.cleared)) if body.cleared is not None else None
    plan.start_dates = {k: v.isoformat() for k, v in body.start_dates.items()}
    plan.caps = {k: v.model_dump(exclude_none=True) for k, v in body.caps.items()}
    plan.updated_by = clinician.id
    plan.updated_at = now
    session.add(plan)
    record(
        session, patient.id, clinician.id, "set_routine",
        body.model_dump(mode="json"), now,
    )  # fmt: skip
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
    now: datetime,
) -> ThresholdsPublic:
    patient, _ = patient_of(session, clinician, patient_id)
    try:
        DEFAULT_THRESHOLDS.with_overrides(values)
    except ThresholdError as exc:
        raise FieldError([(exc.field, exc.message)]) from exc
    row = session.get(UserThresholds, patient.id) or UserThresholds(user_id=patient.id)
    row.values = {k: float(v) for k, v in values.items()}
    row.updated_by = clinician.id
    row.updated_at = now
    session.add(row)
    record(session, patient.id, clinician.id, "set_thresholds", dict(row.values), now)
    session.commit()
    return thresholds_public(dict(row.values))


def resolve_red_flags(
    session: Session, clinician: User, patient_id: uuid.UUID, now: datetime
) -> AdvicePublic:
    """The clinician has seen the patient: their red flags up to now are resolved."""
    from api.services.advice import advice_public, evaluate_and_apply

    patient, _ = patient_of(session, clinician, patient_id)
    record(session, patient.id, clinician.id, RESOLVE_ACTION, {}, now)
    session.flush()
    advice = evaluate_and_apply(session, patient.id, now).advice
    session.commit()
    return advice_public(advice)


def last_clinician_resolution(session: Session, patient_id: uuid.UUID) -> datetime | None:
    return session.exec(
        select(ClinicianAction.at)
        .where(ClinicianAction.user_id == patient_id, ClinicianAction.action == RESOLVE_ACTION)
        .order_by(col(ClinicianAction.at).desc())
        .limit(1)
    ).first()


# --- what the builder must respect --------------------------------------------------------


@dataclass(frozen=True)
class Clearance:
    cleared: frozenset[str] | None
    not_before: dict[str, date]
    caps: dict[str, dict[str, int]]

    def waiting(self, today: date) -> frozenset[str]:
        return frozenset(slug for slug, start in self.not_before.items() if start > today)

    def cap(self, dose: Dose) -> Dose:
        limit = self.caps.get(dose.exercise_slug)
        if not limit:
            return dose
        return Dose(
            dose.exercise_slug,
            min(dose.sets, limit.get("sets", dose.sets)),
            min(dose.reps, limit["reps"])
            if dose.reps is not None and "reps" in limit
            else dose.reps,
            min(dose.hold_seconds, limit["hold_seconds"])
            if dose.hold_seconds is not None and "hold_seconds" in limit
            else dose.hold_seconds,
            dose.per_side,
        )

    def exceeds(self, dose: Dose) -> bool:
        return self.cap(dose) != dose

    def permits(self, current: Dose, target: Dose) -> bool:
        """May the ladder step from `current` up to `target`?"""
        if target.exercise_slug != current.exercise_slug:
            # Moving on to the harder variation: not past a cap on this exercise, and
            # only to an exercise the clinician has cleared.
            if current.exercise_slug in self.caps:
                return False
            if self.cleared is not None and target.exercise_slug not in self.cleared:
                return False
        return not self.exceeds(target)

    def shows(self, slug: str, today: date) -> bool:
        """Whether an exercise belongs in the person's routine today."""
        if self.cleared is not None and slug not in self.cleared:
            return False
        return slug not in self.waiting(today)


def clearance_for(session: Session, patient_id: uuid.UUID) -> Clearance:
    plan = session.get(ClinicianPlan, patient_id)
    if plan is None:
        return Clearance(None, {}, {})
    return Clearance(
        frozenset(plan.cleared) if plan.cleared is not None else None,
        {k: date.fromisoformat(v) for k, v in plan.start_dates.items()},
        plan.caps,
    )


# --- alerts -------------------------------------------------------------------------------


def alert_on_advice(
    session: Session, patient_id: uuid.UUID, advice_id: uuid.UUID, status: str,
    rule_ids: list[str], now: datetime,
) -> None:  # fmt: skip
    """Each linked clinician hears once of each advice that turns to a doctor or urgent care."""
    from api.services.advice import insert_ignoring_duplicates

    if status not in ("see_doctor", "urgent_care"):
        return
    waiting = set(
        session.exec(
            select(Alert.clinician_id).where(
                Alert.user_id == patient_id,
                Alert.kind == status,
                col(Alert.acknowledged_at).is_(None),
            )
        ).all()
    )
    rows = [
        {
            "id": uuid.uuid4(),
            "clinician_id": clinician_id,
            "user_id": patient_id,
            "kind": status,
            "source": str(advice_id),
            "details": {"rules": rule_ids},
            "created_at": now,
        }
        for clinician_id in linked_clinicians(session, patient_id)
        # Once until acknowledged: an open alert of this kind already says it.
        if clinician_id not in waiting
    ]
    insert_ignoring_duplicates(session, Alert, rows)


def _note_inactivity(session: Session, clinician: User, now: datetime) -> None:
    from api.services.advice import insert_ignoring_duplicates

    links = session.exec(
        select(ClinicianLink).where(ClinicianLink.clinician_id == clinician.id)
    ).all()
    rows = []
    for link_row in links:
        last = _last_log(session, link_row.user_id) or link_row.created_at
        if now - last >= INACTIVE_AFTER:
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "clinician_id": clinician.id,
                    "user_id": link_row.user_id,
                    "kind": "inactive",
                    # One alert per quiet spell: keyed by when the patient last logged.
                    "source": last.isoformat(),
                    "details": {"last_log_at": last.isoformat(), "days": (now - last).days},
                    "created_at": now,
                }
            )
    insert_ignoring_duplicates(session, Alert, rows)


def list_alerts(
    session: Session, clinician: User, now: datetime, *, limit: int, cursor: str | None
) -> tuple[list[AlertPublic], str | None]:
    """Open alerts about patients still linked, newest first."""
    _note_inactivity(session, clinician, now)
    session.commit()
    linked = select(ClinicianLink.user_id).where(ClinicianLink.clinician_id == clinician.id)
    alerts, next_cursor = keyset_page(
        session,
        select(Alert).where(
            Alert.clinician_id == clinician.id,
            col(Alert.acknowledged_at).is_(None),
            col(Alert.user_id).in_(linked),
        ),
        time_col=Alert.created_at,
        id_col=Alert.id,
        limit=limit,
        cursor=cursor,
        descending=True,
    )
    return [_alert_public(a) for a in alerts], next_cursor


def linked_clinicians_patients(session: Session, clinician_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        session.exec(
            select(ClinicianLink.user_id).where(ClinicianLink.clinician_id == clinician_id)
        ).all()
    )


def _alert_public(alert: Alert) -> AlertPublic:
    return AlertPublic(
        id=alert.id,
        patient_id=alert.user_id,
        kind=alert.kind,
        details=alert.details,
        created_at=alert.created_at,
        acknowledged_at=alert.acknowledged_at,
    )


def ack_alert(session: Session, clinician: User, alert_id: uuid.UUID, now: datetime) -> AlertPublic:
    alert = session.get(Alert, alert_id)
    if (
        alert is None
        or alert.clinician_id != clinician.id
        or alert.user_id not in set(linked_clinicians_patients(session, clinician.id))
    ):
        raise NotFound("No such alert.")
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        session.add(alert)
        session.commit()
    return _alert_public(alert)
