"""A person's data as a whole: the export of everything stored about them, and erasure
of it all with the account."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table
from sqlmodel import Session, col, delete, select

from api import changes
from api.config import Settings
from api.db import metadata
from api.errors import Forbidden
from api.models import (
    AdviceRow,
    Alert,
    CheckInRow,
    ClinicianAction,
    ClinicianInvitation,
    ClinicianLink,
    ClinicianPlan,
    Device,
    DoseChange,
    LoginFailure,
    OutboxMessage,
    OutcomeRow,
    PersonIdempotencyKey,
    RefreshToken,
    RoutineItem,
    Screening,
    SessionLogRow,
    Tombstone,
    TrainingSession,
    User,
    UserThresholds,
    WearableUpload,
)
from api.schemas.accounts import (
    AccountExport,
    ActionTakenExport,
    AlertExport,
    AlertReceivedExport,
    ClinicianRecord,
    DevicePublic,
    DoseChangeExport,
    ImportKeyExport,
    InvitationExport,
    MessageExport,
    PatientLinkExport,
    RemovedExport,
    RoutineExport,
    SignInPublic,
    UploadExport,
)
from api.schemas.clinicians import ClinicianActionPublic
from api.schemas.pain import CheckInPublic, StoredAdvice
from api.security import Passwords
from api.services import sync, throttle
from api.services.accounts import password_gate, public_user

# Where each table holding a person's data appears in their export.
EXPORT_SECTIONS = {
    "users": "profile",
    "devices": "devices",
    "refresh_tokens": "sign_ins",
    "login_failures": "failed_logins",
    "outbox": "messages",
    "checkins": "checkins",
    "advice": "advice",
    "user_thresholds": "thresholds",
    "routine_items": "routine",
    "dose_changes": "dose_changes",
    "sessions": "sessions",
    "session_logs": "sessions",
    "wearable_uploads": "wearable_uploads",
    "person_idempotency_keys": "import_keys",
    "clinician_links": "clinicians",
    "clinician_plans": "clinician_plan",
    "clinician_actions": "clinician_actions",
    "alerts": "alerts",
    "screenings": "screenings",
    "outcomes": "outcomes",
    "tombstones": "removed",
}


def export_account(session: Session, user: User, now: datetime) -> AccountExport:
    from api.services.clinician_links import list_links
    from api.services.clinicians import plan_public
    from api.services.instruments import load_instruments
    from api.services.outcomes import public_many
    from api.services.routine_views import session_public
    from api.services.screening import screening_public
    from api.services.wearable import import_fields
    from api.services.wearable_summaries import session_summaries, unpack_heart_rate

    def mine(model: Any, order: Any) -> list[Any]:
        return list(
            session.exec(select(model).where(model.user_id == user.id).order_by(order)).all()
        )

    failures = session.exec(
        select(LoginFailure.failed_at)
        .where(LoginFailure.key == throttle.account_key(user.email))
        .order_by(col(LoginFailure.failed_at))
    ).all()
    messages = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == user.email)
        .order_by(col(OutboxMessage.created_at))
    ).all()
    thresholds = session.get(UserThresholds, user.id)
    sessions = mine(TrainingSession, col(TrainingSession.created_at))
    logs = {log.session_id: log for log in mine(SessionLogRow, col(SessionLogRow.started_at))}
    summaries = session_summaries(session, [s.id for s in sessions])
    uploads = []
    for u in mine(WearableUpload, col(WearableUpload.started_at)):
        samples = unpack_heart_rate(u.heart_rate) if u.heart_rate else []
        uploads.append(
            UploadExport(
                id=u.id,
                matched_session_id=u.session_id,
                summary=u.summary,
                device_id=u.device_id,
                device_session_id=u.device_session_id,
                started_at=u.started_at,
                ended_at=u.ended_at,
                device_model=u.device_model,
                software_version=u.software_version,
                received_at=u.received_at,
                updated_at=u.updated_at,
                heart_rate=[(u.started_at + timedelta(seconds=o), b) for o, b in samples],
                reps=u.reps,
                energy_kcal=u.energy_kcal,
                **import_fields(u),
            )
        )
    return AccountExport(
        exported_at=now,
        profile=public_user(user),
        devices=[
            DevicePublic.model_validate(d, from_attributes=True)
            for d in mine(Device, col(Device.created_at))
        ],
        sign_ins=[
            SignInPublic.model_validate(t, from_attributes=True)
            for t in mine(RefreshToken, col(RefreshToken.created_at))
        ],
        failed_logins=list(failures),
        messages=[
            MessageExport(kind=m.kind, created_at=m.created_at, sent_at=m.sent_at) for m in messages
        ],
        checkins=[
            CheckInPublic.model_validate(c, from_attributes=True)
            for c in mine(CheckInRow, col(CheckInRow.recorded_at))
        ],
        advice=[
            StoredAdvice.model_validate(a, from_attributes=True)
            for a in mine(AdviceRow, col(AdviceRow.evaluated_at))
        ],
        thresholds=dict(thresholds.values) if thresholds else {},
        routine=[
            RoutineExport.model_validate(r, from_attributes=True)
            for r in mine(RoutineItem, col(RoutineItem.exercise_slug))
        ],
        dose_changes=[
            DoseChangeExport.model_validate(c, from_attributes=True)
            for c in mine(DoseChange, col(DoseChange.at))
        ],
        sessions=[session_public(s, logs.get(s.id), summaries.get(s.id)) for s in sessions],
        removed=[
            RemovedExport.model_validate(t) for t in mine(Tombstone, col(Tombstone.deleted_at))
        ],
        wearable_uploads=uploads,
        import_keys=[
            ImportKeyExport.model_validate(k, from_attributes=True)
            for k in mine(PersonIdempotencyKey, col(PersonIdempotencyKey.created_at))
            if k.expires_at > now
        ],
        clinicians=list_links(session, user, limit=10_000)[0],
        clinician_plan=(
            plan_public(plan) if (plan := session.get(ClinicianPlan, user.id)) else None
        ),
        clinician_actions=[
            ClinicianActionPublic.model_validate(a, from_attributes=True)
            for a in mine(ClinicianAction, col(ClinicianAction.at))
        ],
        alerts=[
            AlertExport.model_validate(a, from_attributes=True)
            for a in mine(Alert, col(Alert.created_at))
        ],
        screenings=[screening_public(r) for r in mine(Screening, col(Screening.created_at))],
        outcomes=public_many(
            session,
            user.id,
            mine(OutcomeRow, col(OutcomeRow.recorded_at)),
            load_instruments(),
        ),
        as_clinician=_as_clinician(session, user),
    )


def _as_clinician(session: Session, user: User) -> ClinicianRecord:
    def rows(model: Any, order: Any) -> list[Any]:
        return list(
            session.exec(select(model).where(model.clinician_id == user.id).order_by(order)).all()
        )

    return ClinicianRecord(
        invitations=[
            InvitationExport.model_validate(i, from_attributes=True)
            for i in rows(ClinicianInvitation, col(ClinicianInvitation.created_at))
        ],
        patients=[
            PatientLinkExport(patient_id=link.user_id, linked_at=link.created_at)
            for link in rows(ClinicianLink, col(ClinicianLink.created_at))
        ],
        alerts=[
            AlertReceivedExport(
                patient_id=a.user_id,
                kind=a.kind,
                created_at=a.created_at,
                acknowledged_at=a.acknowledged_at,
            )
            for a in rows(Alert, col(Alert.created_at))
        ],
        actions=[
            ActionTakenExport(patient_id=a.user_id, action=a.action, details=a.details, at=a.at)
            for a in rows(ClinicianAction, col(ClinicianAction.at))
        ],
    )


def user_owned_tables() -> list[Table]:
    """Every table with a user_id column, children first, found from the metadata.

    Found rather than listed, so a table added later is erased too.
    """
    return [t for t in reversed(metadata.sorted_tables) if "user_id" in t.c]


def delete_account(
    session: Session,
    passwords: Passwords,
    settings: Settings,
    user: User,
    password: str,
    *,
    address: str,
    now: datetime,
) -> None:
    # The password typed here counts with sign-in's failures: a stolen access token must
    # not become a way to guess it without limit.
    gate = password_gate(session, settings, user.email, address, user, now)
    gate.refuse_while_closed(session, now)
    held = gate.hold(session, now)  # committed, as sign-in does: nothing held through the hash
    if not passwords.verify(password, user.password_hash):
        gate.failed(session, now)
        raise Forbidden("The password does not match; the account was not deleted.")
    gate.passed(session, held)
    # A clinician's patients lose their links and the plans' author with this account.
    changes.bump_linked(session, user.id)
    # Their lists lose the link: tell the patients' apps by a tombstone each.
    for link_id, patient_id in session.exec(
        select(ClinicianLink.id, ClinicianLink.user_id).where(ClinicianLink.clinician_id == user.id)
    ).all():
        sync.bury(session, patient_id, "clinician_link", link_id, now)
    for table in user_owned_tables():
        session.exec(delete(table).where(table.c.user_id == user.id))
    session.exec(
        delete(LoginFailure).where(
            (col(LoginFailure.key) == throttle.account_key(user.email))
            | col(LoginFailure.key).startswith(throttle.pair_prefix(user.email), autoescape=True)
        )
    )
    session.exec(delete(OutboxMessage).where(col(OutboxMessage.recipient) == user.email))
    session.delete(user)
    session.commit()
