"""Accounts: registration, sign-in, token rotation, profile, devices, export, erasure."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from api.config import Settings
from api.db import metadata
from api.errors import Conflict, FieldError, Forbidden, NotFound, TooManyRequests, Unauthorized
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
    Equipment,
    LoginFailure,
    RefreshToken,
    RoutineItem,
    SessionLogRow,
    TrainingSession,
    User,
    UserThresholds,
    WearableUpload,
)
from api.pagination import keyset_page
from api.schemas.accounts import (
    MIN_AGE_YEARS,
    AccountExport,
    DevicePublic,
    DoseChangeExport,
    ProfilePatch,
    RegisterIn,
    RoutineExport,
    SignInPublic,
    TokenPair,
    UploadExport,
    UserPublic,
)
from api.schemas.pain import CheckInPublic, StoredAdvice
from api.security import (
    DEVICE_TOKEN_PREFIX,
    DISPLAY_PREFIX_LENGTH,
    REFRESH_TOKEN_PREFIX,
    Passwords,
    create_access_token,
    new_opaque_token,
    token_digest,
)
from api.services import throttle

BAD_CREDENTIALS = "Wrong email or password."
# Writing last_used_at on every upload would turn reads into writes; this is enough.
DEVICE_SEEN_GRANULARITY = timedelta(minutes=5)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def register(session: Session, passwords: Passwords, data: RegisterIn, now: datetime) -> User:
    email = normalise_email(str(data.email))
    if find_user_by_email(session, email) is not None:
        raise Conflict("An account with this email already exists.")
    user = User(
        email=email,
        password_hash=passwords.hash(data.password.get_secret_value()),
        display_name=data.display_name,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent registration won the race
        session.rollback()
        raise Conflict("An account with this email already exists.") from exc
    return user


def create_user(
    session: Session, passwords: Passwords, email: str, password: str, role: str, now: datetime
) -> User:
    """For the CLI: an account with any role (there is no public way to become admin)."""
    user = User(
        email=normalise_email(email),
        password_hash=passwords.hash(password),
        role=role,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    session.commit()
    return user


def _limits(settings: Settings, email: str, address: str) -> list[throttle.Limit]:
    window = timedelta(minutes=settings.login_failure_window_minutes)
    return [
        throttle.Limit(
            throttle.account_key(normalise_email(email)),
            settings.login_max_failures_per_account,
            window,
        ),
        throttle.Limit(
            throttle.address_key(address), settings.login_max_failures_per_address, window
        ),
    ]


def _too_many(seconds: int) -> TooManyRequests:
    return TooManyRequests(
        f"Too many failed sign-in attempts. Try again in {seconds} seconds.",
        retry_after=seconds,
        extra={"retry_after": seconds},
    )


def login(
    session: Session,
    passwords: Passwords,
    settings: Settings,
    *,
    email: str,
    password: str,
    address: str,
    now: datetime,
) -> TokenPair:
    limits = _limits(settings, email, address)
    # Checked before hashing, so a locked-out flood costs no CPU.
    for limit in limits:
        wait = throttle.locked_for(session, limit, now)
        if wait is not None:
            raise _too_many(wait)
    user = find_user_by_email(session, email)
    if not passwords.verify(password, user.password_hash if user else None) or user is None:
        throttle.record_failure(session, limits, now)
        session.commit()
        for limit in limits:
            wait = throttle.locked_for(session, limit, now)
            if wait is not None:
                raise _too_many(wait)
        raise Unauthorized(BAD_CREDENTIALS)
    throttle.clear(session, limits[0].key)
    pair = _issue_tokens(session, settings, user, uuid.uuid4(), now)
    session.commit()
    return pair


def _issue_tokens(
    session: Session, settings: Settings, user: User, family_id: uuid.UUID, now: datetime
) -> TokenPair:
    refresh = new_opaque_token(REFRESH_TOKEN_PREFIX)
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id,
            token_hash=token_digest(refresh),
            created_at=now,
            expires_at=now + timedelta(days=settings.refresh_token_days),
        )
    )
    access, expires_in = create_access_token(settings, user_id=user.id, role=user.role, now=now)
    return TokenPair(access_token=access, expires_in=expires_in, refresh_token=refresh)


def _revoke_family(session: Session, family_id: uuid.UUID, now: datetime) -> None:
    session.exec(
        update(RefreshToken)
        .where(
            col(RefreshToken.family_id) == family_id,
            col(RefreshToken.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )


def refresh(session: Session, settings: Settings, token: str, now: datetime) -> TokenPair:
    row = session.exec(
        select(RefreshToken).where(RefreshToken.token_hash == token_digest(token))
    ).first()
    if row is None:
        raise Unauthorized("Unknown refresh token; sign in again.")
    if row.revoked_at is not None:
        raise Unauthorized("This refresh token was revoked; sign in again.")
    if row.expires_at <= now:
        raise Unauthorized("This refresh token has expired; sign in again.")
    # Claim the token atomically: of two requests presenting it, exactly one wins.
    claimed = session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.id) == row.id, col(RefreshToken.used_at).is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        # A used token came back: someone else has it. End the whole family.
        _revoke_family(session, row.family_id, now)
        session.commit()
        raise Unauthorized("This refresh token was already used; every session from it is ended.")
    user = session.get(User, row.user_id)
    if user is None:
        raise Unauthorized("Unknown refresh token; sign in again.")
    pair = _issue_tokens(session, settings, user, row.family_id, now)
    session.commit()
    return pair


def logout(session: Session, token: str, now: datetime) -> None:
    row = session.exec(
        select(RefreshToken).where(RefreshToken.token_hash == token_digest(token))
    ).first()
    if row is not None:
        _revoke_family(session, row.family_id, now)
        session.commit()


def public_user(user: User) -> UserPublic:
    return UserPublic.model_validate(user, from_attributes=True)


def update_profile(session: Session, user: User, patch: ProfilePatch, now: datetime) -> User:
    changes = patch.model_dump(exclude_unset=True)
    if changes.get("birth_year") is not None and changes["birth_year"] > now.year - MIN_AGE_YEARS:
        raise FieldError([("birth_year", f"must be at least {MIN_AGE_YEARS} years ago")])
    if "equipment" in changes:
        wanted = list(dict.fromkeys(changes["equipment"]))
        known = set(session.exec(select(Equipment.slug)).all())
        unknown = [slug for slug in wanted if slug not in known]
        if unknown:
            raise FieldError([("equipment", f"unknown equipment: {', '.join(unknown)}")])
        changes["equipment"] = wanted
    for field, value in changes.items():
        setattr(user, field, value)
    if changes:
        user.updated_at = now
        session.add(user)
        session.commit()
    return user


# --- devices -------------------------------------------------------------------------


def create_device(session: Session, user: User, name: str, now: datetime) -> tuple[Device, str]:
    token = new_opaque_token(DEVICE_TOKEN_PREFIX)
    device = Device(
        user_id=user.id,
        name=name,
        token_hash=token_digest(token),
        token_prefix=token[:DISPLAY_PREFIX_LENGTH],
        created_at=now,
    )
    session.add(device)
    session.commit()
    return device, token


def list_devices(
    session: Session, user: User, *, limit: int, cursor: str | None
) -> tuple[list[Device], str | None]:
    return keyset_page(
        session,
        select(Device).where(Device.user_id == user.id),
        time_col=Device.created_at,
        id_col=Device.id,
        limit=limit,
        cursor=cursor,
    )


def delete_device(session: Session, user: User, device_id: uuid.UUID) -> None:
    device = session.get(Device, device_id)
    if device is None or device.user_id != user.id:
        raise NotFound("No such device.")
    session.delete(device)
    session.commit()


def authenticate_device(session: Session, token: str, now: datetime) -> Device | None:
    if not token.startswith(DEVICE_TOKEN_PREFIX):
        return None
    device = session.exec(select(Device).where(Device.token_hash == token_digest(token))).first()
    if device is None:
        return None
    if device.last_used_at is None or now - device.last_used_at > DEVICE_SEEN_GRANULARITY:
        device.last_used_at = now
        session.add(device)
        session.commit()
    return device


# --- privacy -------------------------------------------------------------------------


# Where each table holding a person's data appears in their export.
EXPORT_SECTIONS = {
    "users": "profile",
    "devices": "devices",
    "refresh_tokens": "sign_ins",
    "login_failures": "failed_logins",
    "checkins": "checkins",
    "advice": "advice",
    "user_thresholds": "thresholds",
    "routine_items": "routine",
    "dose_changes": "dose_changes",
    "sessions": "sessions",
    "session_logs": "sessions",
    "wearable_uploads": "wearable_uploads",
    "clinician_links": "clinicians",
    "clinician_plans": "clinician_plan",
    "clinician_actions": "clinician_actions",
    "alerts": "alerts",
}


def export_account(session: Session, user: User, now: datetime) -> AccountExport:
    from api.services.clinicians import list_links, plan_public
    from api.services.routine_views import session_public
    from api.services.wearable import session_summaries, unpack_heart_rate

    def mine(model: Any, order: Any) -> list[Any]:
        return list(
            session.exec(select(model).where(model.user_id == user.id).order_by(order)).all()
        )

    failures = session.exec(
        select(LoginFailure.failed_at)
        .where(LoginFailure.key == throttle.account_key(user.email))
        .order_by(col(LoginFailure.failed_at))
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
                heart_rate=[(u.started_at + timedelta(seconds=o), b) for o, b in samples],
                reps=u.reps,
                energy_kcal=u.energy_kcal,
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
        wearable_uploads=uploads,
        clinicians=[
            link.model_dump(mode="json") for link in list_links(session, user, limit=10_000)[0]
        ],
        clinician_plan=(
            plan_public(plan).model_dump(mode="json")
            if (plan := session.get(ClinicianPlan, user.id))
            else None
        ),
        clinician_actions=[
            {"clinician_id": a.clinician_id, "action": a.action, "details": a.details, "at": a.at}
            for a in mine(ClinicianAction, col(ClinicianAction.at))
        ],
        alerts=[
            {"kind": a.kind, "created_at": a.created_at, "acknowledged_at": a.acknowledged_at}
            for a in mine(Alert, col(Alert.created_at))
        ],
        as_clinician=_as_clinician(session, user),
    )


def _as_clinician(session: Session, user: User) -> dict[str, list[dict[str, Any]]]:
    def rows(model: Any, order: Any) -> list[Any]:
        return list(
            session.exec(select(model).where(model.clinician_id == user.id).order_by(order)).all()
        )

    return {
        "invitations": [
            {"created_at": i.created_at, "expires_at": i.expires_at, "used_at": i.used_at}
            for i in rows(ClinicianInvitation, col(ClinicianInvitation.created_at))
        ],
        "patients": [
            {"patient_id": link.user_id, "linked_at": link.created_at}
            for link in rows(ClinicianLink, col(ClinicianLink.created_at))
        ],
        "alerts": [
            {
                "patient_id": a.user_id,
                "kind": a.kind,
                "created_at": a.created_at,
                "acknowledged_at": a.acknowledged_at,
            }
            for a in rows(Alert, col(Alert.created_at))
        ],
        "actions": [
            {"patient_id": a.user_id, "action": a.action, "details": a.details, "at": a.at}
            for a in rows(ClinicianAction, col(ClinicianAction.at))
        ],
    }


def user_owned_tables() -> list[Table]:
    """Every table with a user_id column, children first, found from the metadata.

    Found rather than listed, so a table added later is erased too.
    """
    return [t for t in reversed(metadata.sorted_tables) if "user_id" in t.c]


def delete_account(session: Session, passwords: Passwords, user: User, password: str) -> None:
    if not passwords.verify(password, user.password_hash):
        raise Forbidden("The password does not match; the account was not deleted.")
    for table in user_owned_tables():
        session.exec(delete(table).where(table.c.user_id == user.id))
    session.exec(
        delete(LoginFailure).where(col(LoginFailure.key) == throttle.account_key(user.email))
    )
    session.delete(user)
    session.commit()
