"""The routine and sessions as clients see them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime

from sqlmodel import Session

from api.domain.catalog import CatalogInfo
from api.domain.decisions import NO_CLEARANCE, Clearance, RoutineEntry
from api.domain.ladder import floor_index, ladder, left_out, level_of
from api.domain.steps import personal_steps
from api.models import SessionLogRow, TrainingSession, User
from api.schemas.logs import LogPublic
from api.schemas.pain import AdvicePublic
from api.schemas.training import (
    RoutineItemPublic,
    RoutinePublic,
    SessionItem,
    SessionNote,
    SessionPublic,
)
from api.schemas.wearable import WearableSummary
from api.services.advice import advice_public
from api.services.evaluation import Evaluation, evaluate_person
from api.services.screening import outcome_public


def routine_item_public(
    slug: str,
    entry: RoutineEntry,
    catalog: Mapping[str, CatalogInfo],
    clearance: Clearance = NO_CLEARANCE,
    *,
    with_steps: bool = True,
) -> RoutineItemPublic:
    info = catalog.get(slug)
    dose = clearance.cap(entry.dose)
    out = left_out(dose)
    if out:
        # Shown with the dose it comes back at (the bottom rung).
        dose = replace(dose, sets=1)
    level = 1
    if info is not None:
        level = level_of(dose, ladder(info.dose)) - floor_index(info.dose) + 1 - int(out)
    return RoutineItemPublic(
        exercise_slug=slug,
        name=info.name if info else slug,
        sets=dose.sets,
        reps=dose.reps,
        hold_seconds=dose.hold_seconds,
        per_side=dose.per_side,
        level=level,
        left_out=out,
        # Not for an exercise left out (nothing to do now), nor where the clinician's caps
        # were not applied (the steps would name a dose above them).
        steps=personal_steps(info.steps, dose.reps, dose.hold_seconds, dose.sets)
        if info and with_steps and not out
        else [],
    )


def active_items(evaluation: Evaluation, today: date) -> list[RoutineItemPublic]:
    """The exercises in force: active, in the catalog, cleared and started."""
    catalog = evaluation.catalog
    return [
        routine_item_public(slug, entry, catalog, evaluation.clearance)
        for slug, entry in sorted(evaluation.routine.items())
        if entry.active
        and slug in catalog
        and not catalog[slug].archived
        and evaluation.clearance.shows(slug, today)
    ]


def log_public(row: SessionLogRow) -> LogPublic:
    return LogPublic.model_validate(row, from_attributes=True)


def session_public(
    row: TrainingSession, log: SessionLogRow | None, summary: WearableSummary | None = None
) -> SessionPublic:
    return SessionPublic(
        id=row.id,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        minutes=row.minutes,
        estimated_minutes=row.estimated_minutes,
        equipment=row.equipment,
        focus=row.focus,
        exclude=row.exclude,
        advice=AdvicePublic.model_validate(row.advice),
        items=[SessionItem.model_validate(i) for i in row.items],
        dropped=row.dropped,
        notes=row.notes,
        note_items=[
            SessionNote.model_validate(n)
            for n in (
                row.note_items
                if row.note_items is not None
                else [{"kind": "note", "text": text} for text in row.notes]
            )
        ],
        log=log_public(log) if log else None,
        wearable=summary,
    )


def routine_view(
    session: Session, user: User, catalog: Mapping[str, CatalogInfo], now: datetime
) -> RoutinePublic:
    """The routine as the next session will prescribe it; reading it writes nothing."""
    evaluation = evaluate_person(session, user, now, catalog, record=False)
    screen = outcome_public(evaluation.screen, catalog)
    return RoutinePublic(
        items=active_items(evaluation, evaluation.today(user.timezone)),
        advice=advice_public(evaluation.advice),
        excluded=screen.excluded,
        limited=screen.limited,
    )
