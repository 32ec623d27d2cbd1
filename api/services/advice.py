"""Advice as clients see it, and its history: kept when it changes, with clinicians told."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from api.domain.decisions import fingerprint
from api.domain.types import Advice
from api.models import AdviceRow
from api.schemas.pain import AdvicePublic, MeasureDuePublic, ReasonPublic
from api.services.care_team import alert_on_advice
from api.services.history import LatestAdvice, latest_advice


def advice_public(advice: Advice) -> AdvicePublic:
    return AdvicePublic(
        status=advice.status,
        reasons=[
            ReasonPublic(
                rule_id=r.rule_id,
                status=r.status,
                message=r.message,
                evidence=r.evidence,
                exercises=list(r.exercises),
            )
            for r in advice.reasons
        ],
        exercises=dict(advice.exercises),
        ruleset_version=advice.ruleset_version,
        evaluated_at=advice.evaluated_at,
        next_checkin_due_at=advice.next_checkin_due_at,
        stale=advice.stale,
        measures_due=[
            MeasureDuePublic(instruments=list(m.instruments), due_at=m.due_at)
            for m in advice.measures_due
        ],
    )


def store_if_changed(
    session: Session,
    user_id: uuid.UUID,
    advice: Advice,
    *,
    latest: LatestAdvice | None = None,
    current: bool = False,
) -> None:
    """Keep `advice` unless it is the same as the latest stored, read now (not when the
    evaluation began: a concurrent request may have stored advice since), or `latest`
    when it is `current`: read while this transaction held the person
    (api/changes.py holds_person), so nothing can have been stored since."""
    if not current:
        latest = latest_advice(session, user_id, flare=False)
    digest = fingerprint(advice)
    if latest is not None and latest.fingerprint == digest:
        return
    previous_status = latest.status if latest is not None else None
    public = advice_public(advice)
    row = AdviceRow(
        user_id=user_id,
        status=advice.status,
        reasons=[r.model_dump(mode="json") for r in public.reasons],
        exercises=dict(advice.exercises),
        ruleset_version=advice.ruleset_version,
        evaluated_at=advice.evaluated_at,
        next_checkin_due_at=advice.next_checkin_due_at,
        stale=advice.stale,
        fingerprint=digest,
    )
    session.add(row)
    session.flush()
    if advice.status != previous_status:
        # Clinicians hear when the status turns to a doctor or urgent care, not of
        # every change of reasons within it.
        alert_on_advice(session, user_id, row.id, advice)
