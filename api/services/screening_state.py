"""A person's screen as evaluation needs it: what it rules out, limits and gates.

Read by every evaluation (services/evaluation.py), so it is one query for the latest
screen plus, only when a clinician has cleared exercises despite an answer, one for
the links that make that clearance count.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from api.domain.catalog import CatalogInfo
from api.domain.decisions import NO_CLEARANCE, Clearance
from api.domain.screening import (
    Cautioned,
    Exclusion,
    Gate,
    Limit,
    Screen,
    gates,
    lifted,
    merge_caps,
    screen_outcome,
)
from api.models import ClinicianLink, ClinicianPlan, Screening, User
from api.services.care_team import clearance_from_plan


@dataclass(frozen=True)
class ScreenState:
    screen: Screen | None
    excluded: list[Exclusion] = field(default_factory=list)  # in force
    lifted: list[Exclusion] = field(default_factory=list)  # cleared by a linked clinician
    limits: list[Limit] = field(default_factory=list)
    gates: list[Gate] = field(default_factory=list)
    row: Screening | None = None  # the stored screen in force

    @property
    def risk_factors(self) -> frozenset[str]:
        return self.screen.risk_factors if self.screen is not None else frozenset()


_PLAN = select(ClinicianPlan).where(ClinicianPlan.user_id == bindparam("user_id"))
_LATEST = (
    select(Screening)
    .where(Screening.user_id == bindparam("user_id"))
    .order_by(col(Screening.created_at).desc(), col(Screening.id).desc())
    .limit(1)
)  # built once: every evaluation runs it


def latest_row(session: Session, user_id: uuid.UUID) -> Screening | None:
    return session.exec(_LATEST, params={"user_id": user_id}).first()


def screened(session: Session, user_id: uuid.UUID) -> bool:
    return latest_row(session, user_id) is not None


def to_screen(row: Screening) -> Screen:
    return Screen(
        osteoporosis=row.osteoporosis,
        pregnant=row.pregnant,
        pregnancy_weeks=row.pregnancy_weeks,
        spinal_surgery_last_12_months=row.spinal_surgery_last_12_months,
        stenosis_or_spondylolisthesis=row.stenosis_or_spondylolisthesis,
        risk_factors=frozenset(name for name, yes in row.risk_factors.items() if yes),
        screened_at=row.created_at,
    )


def cautioned(catalog: Mapping[str, CatalogInfo]) -> list[Cautioned]:
    return [
        Cautioned(info.slug, info.category, info.cautions, info.caution_limits)
        for info in catalog.values()
        if not info.archived
    ]


def raw_outcome(
    screen: Screen | None, user: User, catalog: Mapping[str, CatalogInfo], today: date
) -> tuple[list[Exclusion], list[Limit]]:
    """What the screen and age rule out before any clinician's clearance."""
    return screen_outcome(screen, user.birth_year, cautioned(catalog), today)


def _cleared_under(session: Session, plan: ClinicianPlan | None) -> dict[str, list[str]]:
    """The plan's clearances despite answers, if a clinician still linked made them."""
    if plan is None or not plan.cleared_under or plan.updated_by is None:
        return {}
    linked = session.exec(
        select(ClinicianLink.id).where(
            ClinicianLink.user_id == plan.user_id,
            ClinicianLink.clinician_id == plan.updated_by,
        )
    ).first()
    return dict(plan.cleared_under) if linked is not None else {}


def screened_clearance(
    session: Session, user: User, catalog: Mapping[str, CatalogInfo], today: date
) -> tuple[Clearance, ScreenState]:
    """The clinician's plan with the screen's exclusions and limits folded in."""
    plan = session.exec(_PLAN, params={"user_id": user.id}).first()
    base = clearance_from_plan(plan) if plan is not None else NO_CLEARANCE
    row = latest_row(session, user.id)
    screen = to_screen(row) if row is not None else None
    exclusions, limits = raw_outcome(screen, user, catalog, today)
    cleared_under = _cleared_under(session, plan)
    standing, gone = lifted(exclusions, cleared_under)
    kept_limits = [
        lim for lim in limits if lim.caution not in cleared_under.get(lim.exercise_slug, ())
    ]
    state = ScreenState(screen, standing, gone, kept_limits, gates(screen, standing, gone), row)
    if not standing and not kept_limits:
        return base, state
    clearance = replace(
        base,
        excluded=frozenset(e.exercise_slug for e in standing),
        caps=merge_caps(base.caps, kept_limits),
    )
    return clearance, state
