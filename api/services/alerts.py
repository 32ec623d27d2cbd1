"""Clinicians' alerts: stored ones (advice that turned to a doctor or urgent care on a
write), and those worked out when read.

Some alerts follow from time alone: a patient who stops logging writes nothing, and a
status can turn to see_doctor as days pass with no new data (a flare that has now
lasted 3 days). Reading the alerts must not write, so these are derived on each read,
with an id fixed by what they are about (clinician, patient, the quiet spell or the
advice), and stored only when the clinician acknowledges them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from api.domain.catalog import CatalogInfo
from api.domain.decisions import alerts_clinicians
from api.errors import FieldError, NotFound
from api.models import AdviceRow, Alert, CheckInRow, ClinicianLink, SessionLogRow, User
from api.pagination import decode_cursor, encode_cursor
from api.schemas.clinicians import ALERT_DETAILS, AlertPublic
from api.services.care_team import derived_source
from api.services.evaluation import evaluate_person
from api.services.screening import risk_factors_of
from api.services.store import insert_ignoring_duplicates

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


def _stored_status(session: Session, patient_id: uuid.UUID) -> str | None:
    return session.exec(
        select(AdviceRow.status)
        .where(AdviceRow.user_id == patient_id)
        .order_by(col(AdviceRow.evaluated_at).desc(), col(AdviceRow.id).desc())
        .limit(1)
    ).first()


def _advice_alerts(
    session: Session, clinician_id: uuid.UUID, catalog: Mapping[str, CatalogInfo], now: datetime
) -> list[Alert]:
    """An alert per linked patient whose advice, evaluated now, calls for a doctor or
    urgent care; the advice's fingerprint keys it, so an acknowledged one stays quiet
    until the advice changes."""
    out = []
    for patient in session.exec(
        select(User).join(ClinicianLink, col(ClinicianLink.user_id) == col(User.id))
        .where(ClinicianLink.clinician_id == clinician_id)
    ).all():  # fmt: skip
        advice = evaluate_person(session, patient, now, catalog, record=False).advice
        # A status reached on a write was stored and alerted then (or needed no alert);
        # only a status that time alone turned is left to derive here.
        if not alerts_clinicians(advice.status) or advice.status == _stored_status(
            session, patient.id
        ):
            continue
        source = derived_source(advice)
        ident = uuid.uuid5(_ALERT_IDS, f"{clinician_id}:{patient.id}:{advice.status}:{source}")
        # Dated by the latest data it rests on, so paging is stable between reads.
        latest = session.exec(
            select(func.max(CheckInRow.recorded_at)).where(CheckInRow.user_id == patient.id)
        ).one()
        out.append(
            Alert(
                id=ident,
                clinician_id=clinician_id,
                user_id=patient.id,
                kind=advice.status,
                source=source,
                details={"rules": [r.rule_id for r in advice.reasons]},
                created_at=latest or now,
            )
        )
    return out


def _derived(
    session: Session, clinician_id: uuid.UUID, catalog: Mapping[str, CatalogInfo], now: datetime
) -> list[Alert]:
    """Alerts due now that no write stored, less those already stored or acknowledged.

    Once until acknowledged: an open stored alert of the same kind about the same
    patient already says it.
    """
    candidates = _inactivity(session, clinician_id, now) + _advice_alerts(
        session, clinician_id, catalog, now
    )
    if not candidates:
        return []
    stored = session.exec(
        select(Alert).where(
            Alert.clinician_id == clinician_id,
            col(Alert.user_id).in_({a.user_id for a in candidates}),
            or_(
                col(Alert.acknowledged_at).is_(None),
                col(Alert.source).in_({a.source for a in candidates}),
            ),
        )
    ).all()
    said = {(a.user_id, a.kind, a.source) for a in stored}
    waiting = {(a.user_id, a.kind) for a in stored if a.acknowledged_at is None}
    return [
        a
        for a in candidates
        if (a.user_id, a.kind, a.source) not in said and (a.user_id, a.kind) not in waiting
    ]


def _open_alerts(
    session: Session, clinician: User, catalog: Mapping[str, CatalogInfo], now: datetime
) -> list[Alert]:
    """Open alerts about patients still linked, newest first."""
    linked = select(ClinicianLink.user_id).where(ClinicianLink.clinician_id == clinician.id)
    stored = session.exec(
        select(Alert).where(
            Alert.clinician_id == clinician.id,
            col(Alert.user_id).in_(linked),
            col(Alert.acknowledged_at).is_(None),
        )
    ).all()
    alerts = list(stored) + _derived(session, clinician.id, catalog, now)
    return sorted(alerts, key=lambda a: (a.created_at, a.id), reverse=True)


def _alert_public(alert: Alert, risk_factors: list[str]) -> AlertPublic:
    return AlertPublic(
        id=alert.id,
        patient_id=alert.user_id,
        kind=alert.kind,
        details=ALERT_DETAILS[alert.kind].model_validate(alert.details),
        created_at=alert.created_at,
        acknowledged_at=alert.acknowledged_at,
        risk_factors=risk_factors,
    )


def _with_risk(session: Session, alerts: list[Alert]) -> list[AlertPublic]:
    """Alerts with each patient's risk factors as their latest screen has them now."""
    risk = {pid: risk_factors_of(session, pid)[1] for pid in {a.user_id for a in alerts}}
    return [_alert_public(a, risk[a.user_id]) for a in alerts]


def list_alerts(
    session: Session,
    clinician: User,
    catalog: Mapping[str, CatalogInfo],
    now: datetime,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[AlertPublic], str | None]:
    """Open alerts about patients still linked, newest first. Reading writes nothing."""
    alerts = _open_alerts(session, clinician, catalog, now)
    if cursor is not None:
        at, raw_id = decode_cursor(cursor)
        try:
            after = (at, uuid.UUID(raw_id))
        except ValueError as exc:
            raise FieldError(
                [("cursor", "not a cursor returned by this API", "invalid_cursor")], where="query"
            ) from exc
        alerts = [a for a in alerts if (a.created_at, a.id) < after]
    page = alerts[:limit]
    next_cursor = None
    if len(alerts) > limit:
        next_cursor = encode_cursor(page[-1].created_at, page[-1].id)
    return _with_risk(session, page), next_cursor


def ack_alert(
    session: Session,
    clinician: User,
    alert_id: uuid.UUID,
    catalog: Mapping[str, CatalogInfo],
    now: datetime,
) -> AlertPublic:
    alert = session.get(Alert, alert_id)
    if alert is None:
        # A derived alert is stored when it is acknowledged (once, however many acks race).
        derived = {a.id: a for a in _derived(session, clinician.id, catalog, now)}
        found = derived.get(alert_id)
        if found is not None:
            row = found.model_dump()
            insert_ignoring_duplicates(session, Alert, [{**row, "acknowledged_at": now}])
            session.commit()
            alert = session.get(Alert, alert_id)
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
    return _with_risk(session, [alert])[0]
