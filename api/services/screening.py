"""`GET|PUT /v1/me/screening`: the answers, what they rule out, and who hears of it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from api.domain.catalog import CatalogInfo
from api.domain.evidence import local_day, zone
from api.domain.screening import Exclusion, clearance_keys
from api.errors import FieldError, FieldIssue
from api.models import Alert, ClinicianPlan, Screening, User
from api.schemas.accounts import MIN_AGE_YEARS
from api.schemas.screening import (
    ExcludedPublic,
    LimitedPublic,
    ScreeningHistory,
    ScreeningIn,
    ScreeningOutcome,
    ScreeningPublic,
    ScreeningResult,
)
from api.services.advice import advice_public
from api.services.care_team import linked_clinicians
from api.services.evaluation import evaluate_person
from api.services.screening_state import ScreenState, latest_row, raw_outcome, to_screen
from api.services.store import insert_ignoring_duplicates

HISTORY_LIMIT = 100


def screening_public(row: Screening) -> ScreeningPublic:
    return ScreeningPublic(
        id=row.id,
        osteoporosis=row.osteoporosis,
        pregnant=row.pregnant,
        pregnancy_weeks=row.pregnancy_weeks,
        spinal_surgery_last_12_months=row.spinal_surgery_last_12_months,
        stenosis_or_spondylolisthesis=row.stenosis_or_spondylolisthesis,
        risk_factors=dict(row.risk_factors),
        screened_at=row.created_at,
    )


def _name(slug: str, catalog: Mapping[str, CatalogInfo]) -> str:
    info = catalog.get(slug)
    return info.name if info is not None else slug


def _excluded(
    items: Iterable[Exclusion], catalog: Mapping[str, CatalogInfo]
) -> list[ExcludedPublic]:
    return [
        ExcludedPublic(
            exercise_slug=e.exercise_slug,
            name=_name(e.exercise_slug, catalog),
            caution=e.caution,
            answer=e.answer,
            reason=e.reason,
        )
        for e in items
    ]


def outcome_public(state: ScreenState, catalog: Mapping[str, CatalogInfo]) -> ScreeningOutcome:
    return ScreeningOutcome(
        excluded=_excluded(state.excluded, catalog),
        limited=[
            LimitedPublic(
                exercise_slug=lim.exercise_slug,
                name=_name(lim.exercise_slug, catalog),
                caution=lim.caution,
                reason=lim.reason,
                limit=dict(lim.dose),
            )
            for lim in state.limits
        ],
        cleared_by_clinician=_excluded(state.lifted, catalog),
        gates=list(state.gates),
    )


def history(session: Session, user_id: uuid.UUID) -> list[ScreeningPublic]:
    rows = session.exec(
        select(Screening)
        .where(Screening.user_id == user_id)
        .order_by(col(Screening.created_at).desc(), col(Screening.id).desc())
        .limit(HISTORY_LIMIT)
    ).all()
    return [screening_public(r) for r in rows]


def get_screening(
    session: Session, user: User, catalog: Mapping[str, CatalogInfo], now: datetime
) -> ScreeningResult:
    """The screen in force and what it does today. Reading it writes nothing."""
    # Not cached: the stored screen row shown comes from this evaluation's own read.
    evaluation = evaluate_person(session, user, now, catalog, record=False, cached=False)
    row = evaluation.screen.row
    return ScreeningResult(
        screening=screening_public(row) if row is not None else None,
        advice=advice_public(evaluation.advice),
        **outcome_public(evaluation.screen, catalog).model_dump(),
    )


def _check(body: ScreeningIn, user: User, now: datetime) -> None:
    errors: list[FieldIssue] = []
    if body.pregnant and body.pregnancy_weeks is None:
        errors.append(("pregnancy_weeks", "required when pregnant is true (1 to 42)", "required"))
    if not body.pregnant and body.pregnancy_weeks is not None:
        errors.append(("pregnancy_weeks", "only given when pregnant is true", "not_allowed"))
    if body.birth_year is not None and body.birth_year > now.year - MIN_AGE_YEARS:
        errors.append(("birth_year", f"must be at least {MIN_AGE_YEARS} years ago", "out_of_range"))
    if body.birth_year is None and user.birth_year is None:
        errors.append(("birth_year", "required: your profile has none, and under 16 "
                       "exercises need a linked clinician's clearance", "required"))  # fmt: skip
    if errors:
        raise FieldError(errors)


def put_screening(
    session: Session,
    user: User,
    body: ScreeningIn,
    catalog: Mapping[str, CatalogInfo],
    now: datetime,
) -> ScreeningResult:
    """Replace the screen (the earlier one stays in the history) and re-evaluate, in one
    transaction; linked clinicians hear of exercises they cleared that it now rules out."""
    _check(body, user, now)
    today = local_day(now, zone(user.timezone))
    previous = latest_row(session, user.id)
    before, _ = raw_outcome(to_screen(previous) if previous else None, user, catalog, today)
    if body.birth_year is not None and body.birth_year != user.birth_year:
        user.birth_year = body.birth_year
        user.updated_at = now
        session.add(user)
    # The latest screen is the one in force: never stored at or before the one it replaces.
    at = now
    if previous is not None and previous.created_at >= at:
        at = previous.created_at + timedelta(microseconds=1)
    row = Screening(
        user_id=user.id,
        osteoporosis=body.osteoporosis,
        pregnant=body.pregnant,
        pregnancy_weeks=body.pregnancy_weeks,
        spinal_surgery_last_12_months=body.spinal_surgery_last_12_months,
        stenosis_or_spondylolisthesis=body.stenosis_or_spondylolisthesis,
        risk_factors=body.risk_factors.model_dump(),
        created_at=at,
    )
    session.add(row)
    session.flush()
    evaluation = evaluate_person(session, user, now, catalog, record=True)
    # What stands after clearances: one a clinician already gave for it alerts no one.
    _alert(session, user, row, previous, set(catalog), before, evaluation.screen.excluded, now)
    session.commit()
    return ScreeningResult(
        screening=screening_public(row),
        advice=advice_public(evaluation.advice),
        **outcome_public(evaluation.screen, catalog).model_dump(),
    )


def _alert(
    session: Session,
    user: User,
    row: Screening,
    previous_row: Screening | None,
    slugs: set[str],
    before: list[Exclusion],
    after: list[Exclusion],
    now: datetime,
) -> None:
    """A screening alert to each linked clinician when the new answers rule out an
    exercise they cleared, or add a serious-cause risk factor."""
    plan = session.get(ClinicianPlan, user.id)
    # A plan without a list cleared every exercise.
    cleared: set[str] = set()
    if plan is not None:
        cleared = set(plan.cleared) if plan.cleared is not None else slugs
    old = {(e.exercise_slug, e.key) for e in before}
    newly = sorted(
        {
            e.exercise_slug
            for e in after
            if e.exercise_slug in cleared and (e.exercise_slug, e.key) not in old
        }
    )
    previous = {k for k, v in (previous_row.risk_factors if previous_row else {}).items() if v}
    risk = sorted(k for k, v in row.risk_factors.items() if v)
    new_risk = sorted(set(risk) - previous)
    if not newly and not new_risk:
        return
    details = {
        "screening_id": str(row.id),
        "excluded_cleared": newly,
        "reasons": sorted({e.reason for e in after if e.exercise_slug in newly}),
        "risk_factors": risk,
        "new_risk_factors": new_risk,
    }
    rows = [
        {
            "id": uuid.uuid4(),
            "clinician_id": clinician_id,
            "user_id": user.id,
            "kind": "screening",
            "source": f"screening:{row.id}",
            "details": details,
            "created_at": now,
        }
        for clinician_id in linked_clinicians(session, user.id)
    ]
    insert_ignoring_duplicates(session, Alert, rows)


def screening_history(session: Session, user_id: uuid.UUID) -> ScreeningHistory:
    items = history(session, user_id)
    return ScreeningHistory(latest=items[0] if items else None, history=items)


def risk_factors_of(session: Session, user_id: uuid.UUID) -> tuple[bool, list[str]]:
    """(screened at all, the latest screen's risk factors)."""
    row = latest_row(session, user_id)
    if row is None:
        return False, []
    return True, sorted(k for k, v in row.risk_factors.items() if v)


def cleared_under_now(
    session: Session,
    patient: User,
    catalog: Mapping[str, CatalogInfo],
    now: datetime,
    cleared: Iterable[str] | None,
    despite: Iterable[str],
    earlier: Mapping[str, Iterable[str]],
) -> dict[str, list[str]]:
    """What each exercise of a clinician's list is cleared despite: the answers in force
    now for those named in `despite`, and what it was cleared despite before."""
    if cleared is None:
        return {}
    row = latest_row(session, patient.id)
    today = local_day(now, zone(patient.timezone))
    exclusions, limits = raw_outcome(to_screen(row) if row else None, patient, catalog, today)
    now_keys = clearance_keys(exclusions, despite, limits)
    out: dict[str, list[str]] = {}
    for slug in sorted(set(cleared)):
        keys = set(earlier.get(slug, ())) | set(now_keys.get(slug, ()))
        if keys:
            out[slug] = sorted(keys)
    return out
