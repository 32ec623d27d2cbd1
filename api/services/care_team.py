"""What linked clinicians feed into a person's evaluation, and hear back from it.

Clearances and caps (their plan), red-flag resolutions, the record of their actions,
and alerts. Evaluation reads and writes these here; the clinician routes' own services
(services/clinicians.py, services/clinician_links.py) build on this module, never the
other way round.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from api.domain.decisions import NO_CLEARANCE, Clearance, alerts_clinicians, fingerprint
from api.domain.types import Advice
from api.models import Alert, ClinicianAction, ClinicianLink, ClinicianPlan
from api.services.store import insert_ignoring_duplicates

RESOLVE_ACTION = "resolve_red_flags"


def record(
    session: Session, patient_id: uuid.UUID, clinician_id: uuid.UUID | None, action: str,
    details: dict[str, Any], now: datetime,
) -> None:  # fmt: skip
    """Every change a clinician makes is kept for the patient to see in their export."""
    session.add(
        ClinicianAction(
            user_id=patient_id, clinician_id=clinician_id, action=action, details=details, at=now
        )
    )


def linked_clinicians(session: Session, patient_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        session.exec(
            select(ClinicianLink.clinician_id).where(ClinicianLink.user_id == patient_id)
        ).all()
    )


def clearance_for(session: Session, patient_id: uuid.UUID) -> Clearance:
    plan = session.get(ClinicianPlan, patient_id)
    if plan is None:
        return NO_CLEARANCE
    return clearance_from_plan(plan)


def clearance_from_plan(plan: ClinicianPlan) -> Clearance:
    return Clearance(
        frozenset(plan.cleared) if plan.cleared is not None else None,
        {k: date.fromisoformat(v) for k, v in plan.start_dates.items()},
        plan.caps,
    )


def derived_source(advice: Advice) -> str:
    """The `source` of an alert derived on read for this advice (api/services/alerts.py)."""
    return "advice:" + fingerprint(advice)[:57]


def alert_on_advice(session: Session, patient_id: uuid.UUID, advice_id: uuid.UUID,
                    advice: Advice) -> None:  # fmt: skip
    """Each linked clinician hears once of each advice that turns to a doctor or urgent care."""
    status = advice.status
    if not alerts_clinicians(status):
        return
    waiting = set(
        session.exec(
            select(Alert.clinician_id).where(
                Alert.user_id == patient_id,
                Alert.kind == status,
                # An open alert of this kind already says it, and so does one derived
                # on read for this same advice (even if acknowledged).
                or_(
                    col(Alert.acknowledged_at).is_(None),
                    col(Alert.source) == derived_source(advice),
                ),
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
            "details": {"rules": [r.rule_id for r in advice.reasons]},
            "created_at": advice.evaluated_at,
        }
        for clinician_id in linked_clinicians(session, patient_id)
        # Once until acknowledged: an open alert of this kind already says it.
        if clinician_id not in waiting
    ]
    insert_ignoring_duplicates(session, Alert, rows)
