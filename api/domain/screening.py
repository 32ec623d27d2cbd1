"""Screening before the first session (docs/clinical.md): what the answers rule out.

Pure. Each exercise carries `cautions` (the positions and movements a screen answer
can rule out); a screen maps its answers to cautions it excludes or limits, and two
answers (spinal surgery in the last 12 months, being under 16) rule out every exercise.
A linked clinician lifts an exclusion by clearing the exercise while that exclusion is
in force (`cleared_under`): a clearance given before an answer never covers it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

# The fixed set (docs/api.md, "Screening").
CAUTIONS = (
    "spinal-flexion",
    "spinal-rotation",
    "prone-lying",
    "supine-lying",
    "spinal-extension",
)
# Cautions a screen may limit rather than exclude: an exercise with a limit for one of
# these (its `caution_limits`) is kept at that dose (pregnancy: short holds on the back).
LIMITABLE_CAUTIONS = frozenset({"supine-lying"})
LIMIT_FIELDS = ("sets", "reps", "hold_seconds")
RISK_FACTORS = (
    "over_50_new_pain",
    "immunosuppressed",
    "long_term_steroids",
    "iv_drug_use",
    "cancer_history",
)
# ACOG Committee Opinion 804 (2020): past the first trimester (docs/clinical.md: past 12 weeks).
PREGNANCY_CAUTION_FROM_WEEKS = 12
PREGNANCY_WEEKS_MAX = 42
# NICE NG59 covers people aged 16 and over.
MIN_AGE = 16

Answer = Literal[
    "osteoporosis",
    "pregnancy",
    "stenosis_or_spondylolisthesis",
    "spinal_surgery_last_12_months",
    "under_16",
]
Mode = Literal["exclude", "limit"]
# Answers that rule out every exercise until a linked clinician clears it.
SURGERY: Answer = "spinal_surgery_last_12_months"
UNDER_16: Answer = "under_16"


@dataclass(frozen=True)
class Screen:
    osteoporosis: bool
    pregnant: bool
    pregnancy_weeks: int | None
    spinal_surgery_last_12_months: bool
    stenosis_or_spondylolisthesis: bool
    risk_factors: frozenset[str]
    screened_at: datetime

    def weeks_pregnant(self, today: date) -> int | None:
        """Weeks of pregnancy today: the answer's weeks, counted on since it was given."""
        if not self.pregnant or self.pregnancy_weeks is None:
            return None
        return self.pregnancy_weeks + max((today - self.screened_at.date()).days, 0) // 7


@dataclass(frozen=True)
class Effect:
    """One answer's effect on one caution."""

    answer: Answer
    caution: str
    mode: Mode
    reason: str


_OSTEOPOROSIS = (
    "Osteoporosis or a fragility fracture: {what} can strain weakened bones, so it is left "
    "out unless your clinician clears it."
)
_PREGNANCY = "12 weeks pregnant or more: {what}, unless your clinician clears it."
_STENOSIS = (
    "Spinal stenosis or spondylolisthesis: bending backwards often brings symptoms on, so "
    "this needs your clinician's clearance first."
)
SURGERY_REASON = (
    "Spinal surgery in the last 12 months: your rehabilitation is led by your surgeon or "
    "physiotherapist, so each exercise needs a linked clinician's clearance."
)
UNDER_16_REASON = (
    "Under 16: the guidance this app follows is for people aged 16 and over, so each "
    "exercise needs a linked clinician's clearance."
)


def effects(screen: Screen, today: date) -> list[Effect]:
    """What the screen does to each caution today (docs/clinical.md, Screening)."""
    out: list[Effect] = []
    if screen.osteoporosis:
        out += [
            Effect(
                "osteoporosis",
                "spinal-flexion",
                "exclude",
                _OSTEOPOROSIS.format(what="bending your spine forward under load"),
            ),
            Effect(
                "osteoporosis",
                "spinal-rotation",
                "exclude",
                _OSTEOPOROSIS.format(what="twisting your spine to the end of its range"),
            ),
        ]
    weeks = screen.weeks_pregnant(today)
    # Whole weeks: "12" is 12w0d to 12w6d, past 12 weeks but for its first day (fail safe).
    if weeks is not None and weeks >= PREGNANCY_CAUTION_FROM_WEEKS:
        out += [
            Effect(
                "pregnancy",
                "prone-lying",
                "exclude",
                _PREGNANCY.format(what="lying face down is left out"),
            ),
            Effect(
                "pregnancy",
                "supine-lying",
                "limit",
                _PREGNANCY.format(
                    what="time lying flat on your back is limited (exercises the catalog "
                    "gives a short-hold version are kept at it, the others are left out)"
                ),
            ),
        ]
    if screen.stenosis_or_spondylolisthesis:
        out.append(
            Effect("stenosis_or_spondylolisthesis", "spinal-extension", "exclude", _STENOSIS)
        )
    return out


@dataclass(frozen=True)
class Cautioned:
    """What the screen needs to know about one catalog exercise."""

    slug: str
    category: str
    cautions: frozenset[str] = frozenset()
    # caution -> {sets, reps, hold_seconds}: the dose kept where the caution is limited.
    limits: Mapping[str, Mapping[str, int]] | None = None


@dataclass(frozen=True)
class Exclusion:
    """An exercise ruled out, by which answer and caution (None: every exercise), why."""

    exercise_slug: str
    answer: Answer
    caution: str | None
    reason: str

    @property
    def key(self) -> str:
        """What a clinician's clearance is recorded against: the caution, or the answer."""
        return self.caution or self.answer


@dataclass(frozen=True)
class Limit:
    exercise_slug: str
    caution: str
    reason: str
    dose: Mapping[str, int]


def under_16(birth_year: int | None, today: date) -> bool:
    """Possibly under 16: with only a birth year, someone turning 16 this year may still
    be 15, so they count as under 16 until the year after (fail safe)."""
    return birth_year is not None and today.year - birth_year <= MIN_AGE


def screen_outcome(
    screen: Screen | None,
    birth_year: int | None,
    exercises: Iterable[Cautioned],
    today: date,
) -> tuple[list[Exclusion], list[Limit]]:
    """Every exclusion and limit the screen (and age) puts on these exercises, before any
    clinician's clearance. The warm-up is judged like any other exercise: by its cautions,
    and it too needs a clearance after spinal surgery or under 16."""
    found = effects(screen, today) if screen is not None else []
    everything: list[tuple[Answer, str]] = []
    if screen is not None and screen.spinal_surgery_last_12_months:
        everything.append((SURGERY, SURGERY_REASON))
    if under_16(birth_year, today):
        everything.append((UNDER_16, UNDER_16_REASON))
    exclusions: list[Exclusion] = []
    limits: list[Limit] = []
    for ex in sorted(exercises, key=lambda e: e.slug):
        exclusions += [Exclusion(ex.slug, answer, None, why) for answer, why in everything]
        for effect in found:
            if effect.caution not in ex.cautions:
                continue
            limit = (ex.limits or {}).get(effect.caution)
            if effect.mode == "limit" and limit:
                limits.append(Limit(ex.slug, effect.caution, effect.reason, dict(limit)))
            else:
                exclusions.append(Exclusion(ex.slug, effect.answer, effect.caution, effect.reason))
    return exclusions, limits


def lifted(
    exclusions: Iterable[Exclusion], cleared_under: Mapping[str, Iterable[str]] | None
) -> tuple[list[Exclusion], list[Exclusion]]:
    """(in force, lifted by a linked clinician's clearance). An exercise stays out while
    any one of its exclusions stands."""
    cleared = {slug: set(keys) for slug, keys in (cleared_under or {}).items()}
    standing = [e for e in exclusions if e.key not in cleared.get(e.exercise_slug, set())]
    gone = [e for e in exclusions if e.key in cleared.get(e.exercise_slug, set())]
    return standing, gone


def clearance_keys(
    exclusions: Iterable[Exclusion],
    cleared: Iterable[str] | None,
    limits: Iterable[Limit] = (),
) -> dict[str, list[str]]:
    """What a clinician's list of cleared exercises clears them despite, now (exclusions,
    and limits such as short holds): recorded with the plan, so a later answer is not
    covered by an earlier clearance."""
    if cleared is None:
        return {}
    chosen = set(cleared)
    out: dict[str, set[str]] = {}
    for e in exclusions:
        if e.exercise_slug in chosen:
            out.setdefault(e.exercise_slug, set()).add(e.key)
    for lim in limits:
        if lim.exercise_slug in chosen:
            out.setdefault(lim.exercise_slug, set()).add(lim.caution)
    return {slug: sorted(keys) for slug, keys in sorted(out.items())}


def merge_caps(
    caps: Mapping[str, Mapping[str, int]] | None, limits: Iterable[Limit]
) -> dict[str, dict[str, int]]:
    """A clinician's caps with the screen's limits: the lower of the two wins."""
    out = {slug: dict(cap) for slug, cap in (caps or {}).items()}
    for limit in limits:
        cap = out.setdefault(limit.exercise_slug, {})
        for name, value in limit.dose.items():
            cap[name] = min(cap.get(name, value), value)
    return out


Gate = Literal["screening_required", "spinal_surgery_last_12_months", "under_16"]
_GATES: dict[Answer, Gate] = {
    "spinal_surgery_last_12_months": "spinal_surgery_last_12_months",
    "under_16": "under_16",
}


def gates(
    screen: Screen | None,
    exclusions_in_force: Iterable[Exclusion],
    exclusions_lifted: Iterable[Exclusion],
) -> list[Gate]:
    """Why no session may be built yet: no screen, or an answer that rules out every
    exercise (surgery, age) with no exercise cleared despite it by a linked clinician."""
    if screen is None:
        return ["screening_required"]
    standing = {e.answer for e in exclusions_in_force if e.caution is None}
    cleared = {e.answer for e in exclusions_lifted if e.caution is None}
    out: list[Gate] = []
    for answer in (SURGERY, UNDER_16):
        if answer in standing and answer not in cleared:
            out.append(_GATES[answer])
    return out
