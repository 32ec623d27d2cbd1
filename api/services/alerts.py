"""Clinicians' alerts: stored ones (advice turning to a doctor or urgent care), and
inactivity, which is worked out when read.

A patient who stops logging writes nothing, so "inactive for 7 days" cannot be stored
by any write of theirs; reading the alerts must not write either. An inactivity alert
is therefore derived on each read, with an id fixed by what it is about (clinician,
patient, the quiet spell), and stored only when the clinician acknowledges it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from api.errors import FieldError, NotFound
from api.models import Alert, ClinicianLink, SessionLogRow, User
from api.pagination import decode_cursor, encode_cursor
from api.schemas.clinicians import AlertPublic

# "Stopped logging for 7 days" (issue 8).
INACTIVE_AFTER = timedelta(days=7)
_ALERT_IDS = uuid.UUID("6f1c52a4-8a0e-4f5e-9d55-0b7c3a8e2d41")


def last_log(session: Session, patient_id: uuid.UUID) -> datetime | None:
    return session.exec(
        select(SessionLogRow.started_at)
        .where(SessionLogRow.user_id == patient_id)
        .order_by(col(SessionLogRow.started_at).desc())
        .limit(1)
    ).first()


def _inactivity(session: Session, clinician_id: uuid.UUID, now: datetime) -> list[Alert]:
    """An inactivity alert per linked patient whose last log (or link) is 7+ days old."""
    links = session.exec(
        select(ClinicianLink).where(ClinicianLink.clinician_id == clinician_id)
    ).all()
    out = []
    for link_row in links:
        last = last_log(session, link_row.user_id) or link_row.created_at
        if now - last < INACTIVE_AFTER:
            continue
        # One alert per quiet spell: keyed by when the patient last logged.
        source = last.isoformat()
        ident = uuid.uuid5(_ALERT_IDS, f"{clinician_id}:{link_row.user_id}:inactive:{source}")
        out.append(
            Alert(
                id=ident,
                clinician_id=clinician_id,
                user_id=link_row.user_id,
                kind="inactive",
                source=source,
                details={"last_log_at": source, "days": (now - last).days},
                created_at=last + INACTIVE_AFTER,
            )
        )
    return out


def _open_alerts(session: Session, clinician: User, now: datetime) -> list[Alert]:
    """Open alerts about patients still linked, newest first."""
    linked = select(ClinicianLink.user_id).where(ClinicianLink.clinician_id == clinician.id)
    stored = session.exec(
        select(Alert).where(Alert.clinician_id == clinician.id, col(Alert.user_id).in_(linked))
    ).all()
    seen = {(a.user_id, a.kind, a.source) for a in stored}
    derived = [
        a
        for a in _inactivity(session, clinician.id, now)
        if (a.user_id, a.kind, a.source) not in seen
    ]
    alerts = [a for a in stored if a.acknowledged_at is None] + derived
    return sorted(alerts, key=lambda a: (a.created_at, a.id), reverse=True)


def _alert_public(alert: Alert) -> AlertPublic:
    return AlertPublic(
        id=alert.id,
        patient_id=alert.user_id,
        kind=alert.kind,
        details=alert.details,
        created_at=alert.created_at,
        acknowledged_at=alert.acknowledged_at,
    )


def list_alerts(
    session: Session, clinician: User, now: datetime, *, limit: int, cursor: str | None
) -> tuple[list[AlertPublic], str | None]:
    """Open alerts about patients still linked, newest first. Reading writes nothing."""
    alerts = _open_alerts(session, clinician, now)
    if cursor is not None:
        at, raw_id = decode_cursor(cursor)
        try:
            after = (at, uuid.UUID(raw_id))
        except ValueError as exc:
            raise FieldError([("cursor", "not a cursor returned by this API")]) from exc
        alerts = [a for a in alerts if (a.created_at, a.id) < after]
    page = alerts[:limit]
    next_cursor = None
    if len(alerts) > limit:
        next_cursor = encode_cursor(page[-1].created_at, page[-1].id)
    return [_alert_public(a) for a in page], next_cursor


def ack_alert(session: Session, clinician: User, alert_id: uuid.UUID, now: datetime) -> AlertPublic:
    alert = session.get(Alert, alert_id)
    if alert is None:
        # An inactivity alert is stored when it is acknowledged.
        derived = {a.id: a for a in _inactivity(session, clinician.id, now)}
        alert = derived.get(alert_id)
        if alert is not None:
            alert.acknowledged_at = now
            session.add(alert)
            session.commit()
    linked = set(
        session.exec(
            select(ClinicianLink.user_id).where(ClinicianLink.clinician_id == clinician.id)
        ).all()
    )
    if alert is None or alert.clinician_id != clinician.id or alert.user_id not in linked:
        raise NotFound("No such alert.")
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        session.add(alert)
        session.commit()
    return _alert_public(alert)
