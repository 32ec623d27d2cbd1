"""A person's routine and dose ledger in the database, to and from the domain's terms.

The domain (api/domain/decisions.py) decides; this module only loads and stores.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, delete, select

from api.domain.decisions import DoseStep, RoutineEntry, revert_steps
from api.domain.types import Dose
from api.models import DoseChange, RoutineItem
from api.services.store import insert_ignoring_duplicates


def dose_of(item: RoutineItem) -> Dose:
    return Dose(item.exercise_slug, item.sets, item.reps, item.hold_seconds, item.per_side)


def dose_dict(d: Dose) -> dict[str, Any]:
    return {
        "exercise_slug": d.exercise_slug,
        "sets": d.sets,
        "reps": d.reps,
        "hold_seconds": d.hold_seconds,
        "per_side": d.per_side,
    }


# Built once: every evaluation runs these, and building a statement (and its cache key)
# cost more than running it.
_ROUTINE = select(RoutineItem).where(RoutineItem.user_id == bindparam("user_id"))
_APPLIED = select(DoseChange.decision_key).where(
    DoseChange.user_id == bindparam("user_id"),
    col(DoseChange.decision_key).in_(bindparam("keys", expanding=True)),
)


def load_rows(session: Session, user_id: uuid.UUID) -> dict[str, RoutineItem]:
    rows = session.exec(_ROUTINE, params={"user_id": user_id}).all()
    return {r.exercise_slug: r for r in rows}


def entries(rows: Mapping[str, RoutineItem]) -> dict[str, RoutineEntry]:
    return {slug: RoutineEntry(dose_of(row), row.active) for slug, row in rows.items()}


def insert_starting(
    session: Session, user_id: uuid.UUID, starting: Mapping[str, RoutineEntry], now: datetime
) -> dict[str, RoutineItem]:
    """Store the entries of exercises new to the person (a concurrent request may store
    them first: that is fine) and return every routine row."""
    rows = [
        {
            **{k: v for k, v in dose_dict(entry.dose).items() if k != "exercise_slug"},
            "user_id": user_id,
            "exercise_slug": slug,
            "active": entry.active,
            "created_at": now,
            "updated_at": now,
        }
        for slug, entry in starting.items()
    ]
    insert_ignoring_duplicates(session, RoutineItem, rows)
    return load_rows(session, user_id)


def save(
    session: Session,
    user_id: uuid.UUID,
    rows: dict[str, RoutineItem],
    state: Mapping[str, RoutineEntry],
    now: datetime,
) -> None:
    """Write every entry of `state` that differs from its row (adding rows as needed)."""
    for slug, entry in state.items():
        row = rows.get(slug)
        if row is None:
            row = RoutineItem(user_id=user_id, exercise_slug=slug, sets=entry.dose.sets)
            session.add(row)
            rows[slug] = row
        elif dose_of(row) == entry.dose and row.active == entry.active:
            continue
        d = entry.dose
        row.sets, row.reps, row.hold_seconds, row.per_side = (
            d.sets,
            d.reps,
            d.hold_seconds,
            d.per_side,
        )
        row.active = entry.active
        row.updated_at = now


def applied_keys(session: Session, user_id: uuid.UUID, keys: Sequence[str]) -> set[str]:
    if not keys:
        return set()
    return set(session.exec(_APPLIED, params={"user_id": user_id, "keys": list(keys)}).all())


def record_steps(
    session: Session, user_id: uuid.UUID, steps: Sequence[DoseStep], now: datetime
) -> list[DoseStep]:
    """Ledger rows for new decisions; returns the steps that went in. A step a concurrent
    request recorded first is its to apply, not ours."""
    recorded = []
    for step in steps:
        row = DoseChange(
            user_id=user_id,
            decision_key=step.key,
            rule_id=step.rule_id,
            source=step.source,
            exercise_slug=step.exercise_slug,
            to_exercise_slug=step.to_dose.exercise_slug,
            at=now,
            from_dose=dose_dict(step.from_dose),
            to_dose=dose_dict(step.to_dose),
        )
        if insert_ignoring_duplicates(session, DoseChange, [row.model_dump()]):
            recorded.append(step)
    return recorded


def revert_source(session: Session, user_id: uuid.UUID, source: str, now: datetime) -> None:
    """Undo the dose changes one log caused (it is being corrected), and forget them."""
    changes = session.exec(
        select(DoseChange)
        .where(DoseChange.user_id == user_id, DoseChange.source == source)
        .order_by(col(DoseChange.at).desc())
    ).all()
    steps = [
        DoseStep(
            c.decision_key,
            c.rule_id,
            c.source,
            c.exercise_slug,
            Dose(**c.from_dose),
            Dose(**c.to_dose),
        )  # fmt: skip
        for c in changes
    ]
    rows = load_rows(session, user_id)
    save(session, user_id, rows, revert_steps(entries(rows), steps), now)
    session.exec(
        delete(DoseChange).where(
            col(DoseChange.user_id) == user_id, col(DoseChange.source) == source
        )
    )
