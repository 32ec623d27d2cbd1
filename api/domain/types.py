"""Plain data the rule service reads and writes. No framework, database or clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, TypeVar

Status = Literal["progress", "maintain", "hold", "regress", "see_doctor", "urgent_care"]
Phase = Literal["daily", "before", "during", "after", "next_morning"]
Action = Literal["progress", "maintain", "hold", "regress", "stop"]
# What a session may hold under the advice (decisions.session_scope).
SessionScope = Literal["none", "warmup_and_stretches", "gentle", "full"]

# docs/clinical.md: urgent_care > see_doctor > regress > hold > maintain > progress.
SEVERITY: dict[str, int] = {
    "progress": 0,
    "maintain": 1,
    "hold": 2,
    "regress": 3,
    "see_doctor": 4,
    "urgent_care": 5,
}
ACTION_SEVERITY: dict[str, int] = {
    "progress": 0,
    "maintain": 1,
    "hold": 2,
    "regress": 3,
    "stop": 4,
}

# Cauda equina syndrome red flags (NICE CKS; GIRFT; BMJ Best Practice): emergency.
CAUDA_EQUINA_FLAGS = frozenset(
    {
        "saddle_numbness",
        "bladder_bowel_change",
        "both_legs",
        "progressive_weakness",
        "sexual_dysfunction",
    }
)
# RF2: possible infection or fracture (NICE CKS): see a doctor today, no exercise.
INFECTION_OR_FRACTURE_FLAGS = frozenset({"fever_or_unwell", "significant_trauma"})
# RF2b: possible cancer (NICE CKS): see a doctor within days; gentle movement only.
CANCER_FLAGS = frozenset({"unexplained_weight_loss", "cancer_history"})
# Other serious causes (NICE CKS), RF2 and RF2b together.
SERIOUS_CAUSE_FLAGS = INFECTION_OR_FRACTURE_FLAGS | CANCER_FLAGS
NIGHT_PAIN_FLAG = "night_pain"
ALL_RED_FLAGS = CAUDA_EQUINA_FLAGS | SERIOUS_CAUSE_FLAGS | {NIGHT_PAIN_FLAG}
# Ruleset v2: "rest pain" is pain away from exercise, the daily and next-morning
# check-ins; a `before` check-in is the pain a session starts from.
REST_PHASES = frozenset({"daily", "next_morning"})
# Who may have assessed a person after a red flag (docs/api.md), and the two kinds the
# service records itself: a linked clinician's resolution, and a v1 resolution kept
# valid by the v2 migration.
ASSESSORS = ("emergency_department", "doctor", "physiotherapist")
CLINICIAN_ASSESSOR = "clinician"
V1_ASSESSOR = "unspecified"
# RF4: `locations` that lie in the leg (a slug containing any of these words).
LEG_WORDS = ("leg", "thigh", "knee", "calf", "shin", "ankle", "foot", "feet", "toe")


_T = TypeVar("_T")


def memo(value: object, name: str, compute: Callable[[Any], _T]) -> _T:
    """`compute(value)`, kept on `value` under `name`: for frozen check-ins and logs,
    which the service keeps per stored row and shares between evaluations, so what is
    derived from one is derived once. It is not a field: equality, hashing, `replace`
    and `asdict` never see it."""
    found: _T | None = value.__dict__.get(name)
    if found is None:
        found = compute(value)
        object.__setattr__(value, name, found)
    return found


@dataclass(frozen=True)
class CheckIn:
    id: str
    recorded_at: datetime
    phase: Phase
    pain: int
    session_id: str | None = None
    exercise_slug: str | None = None
    red_flags: frozenset[str] = frozenset()  # the flags answered "yes"
    red_flags_resolved: bool = False
    # When the server stored it (recorded_at is the person's time); None: same moment.
    received_at: datetime | None = None
    # The flags answered "no" (a flag not asked is in neither set).
    denied: frozenset[str] = frozenset()
    # Ruleset v2: who assessed the person after a red flag, and when.
    assessed_by: str | None = None
    assessed_at: datetime | None = None
    radiating_below_knee: bool | None = None
    leg_numbness: bool | None = None
    locations: frozenset[str] = frozenset()

    @property
    def cauda_equina(self) -> bool:
        return bool(self.red_flags & CAUDA_EQUINA_FLAGS)

    @property
    def serious_cause(self) -> bool:
        return bool(self.red_flags & SERIOUS_CAUSE_FLAGS)

    @property
    def infection_or_fracture(self) -> bool:
        return bool(self.red_flags & INFECTION_OR_FRACTURE_FLAGS)

    @property
    def cancer_concern(self) -> bool:
        return bool(self.red_flags & CANCER_FLAGS)

    @property
    def night_pain(self) -> bool:
        return NIGHT_PAIN_FLAG in self.red_flags

    @property
    def arrived(self) -> datetime:
        return self.received_at or self.recorded_at

    @property
    def resolves(self) -> bool:
        """Records that a professional has seen the person (only valid without flags)."""
        return self.red_flags_resolved and not self.red_flags

    @property
    def assessment(self) -> bool:
        """A resolution that says who assessed the person and when (ruleset v2): the
        only kind that clears RF1, RF2 and RF2b."""
        return self.resolves and self.assessed_at is not None and self.assessed_by is not None

    @property
    def leg_symptoms(self) -> frozenset[str]:
        """RF4's leg symptoms reported here: below the knee, numbness, leg locations."""
        return memo(self, "_leg_symptoms", CheckIn._find_leg_symptoms)

    def _find_leg_symptoms(self) -> frozenset[str]:
        found = {loc for loc in self.locations if any(w in loc for w in LEG_WORDS)}
        if self.radiating_below_knee:
            found.add("below_knee")
        if self.leg_numbness:
            found.add("leg_numbness")
        return frozenset(found)

    @property
    def legs_clear(self) -> bool:
        """Answered "no" to pain below the knee, with no leg numbness or leg location."""
        return self.radiating_below_knee is False and not self.leg_symptoms


@dataclass(frozen=True)
class Dose:
    """A person's current prescription for one exercise."""

    exercise_slug: str
    sets: int
    reps: int | None
    hold_seconds: int | None
    per_side: bool = False


@dataclass(frozen=True)
class LogEntry:
    exercise_slug: str
    prescribed: Dose
    sets_completed: int
    reps: tuple[int, ...]  # reps done in each set
    hold_seconds: int | None = None
    rpe: int | None = None
    pain_during: int | None = None
    skipped: bool = False


@dataclass(frozen=True)
class SessionLog:
    session_id: str
    started_at: datetime
    ended_at: datetime
    entries: tuple[LogEntry, ...]
    pain_after: int | None = None
    # Filled from a recording's segment reps (the person did not log it): it says nothing
    # of pain, so it is no evidence that pain settled.
    imported: bool = False


@dataclass(frozen=True)
class Outcome:
    """An outcome measure answered (api/domain/instruments.py scored it)."""

    id: str
    instrument: str
    recorded_at: datetime
    score: float
    band: str | None = None
    # PSFS: the activities rated, (name, 0-10), as the person named them.
    activities: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class MeasureDue:
    """An outcome measure to ask for: any one of `instruments`, due at `due_at` (None: never
    answered, so due now)."""

    instruments: tuple[str, ...]
    due_at: datetime | None


@dataclass(frozen=True)
class History:
    """What one evaluation reads: a bounded recent window, plus the red-flag state.

    `checkins` and `logs` may arrive in any order; evaluation sorts them. The
    `last_*` check-ins are the latest of their kind ever, so an unresolved red flag
    from months ago is never forgotten by the window.
    """

    checkins: tuple[CheckIn, ...] = ()
    logs: tuple[SessionLog, ...] = ()
    doses: tuple[Dose, ...] = ()
    last_cauda_equina: CheckIn | None = None
    last_infection_or_fracture: CheckIn | None = None
    last_cancer_concern: CheckIn | None = None
    last_night_pain: CheckIn | None = None
    # The latest check-in answering "no" to night pain ever (RF3's clearing answer).
    last_night_pain_denial: CheckIn | None = None
    # The resolution with the latest assessment ever (a linked clinician's included).
    last_assessment: CheckIn | None = None
    # The latest rest-pain check-in ever: RF3 stands until a later one is below 8.
    last_rest: CheckIn | None = None
    # The person's first rest-pain check-ins ever: F1's baseline for a new user.
    first_rest: tuple[CheckIn, ...] = ()
    # Exercises left out of sessions (0 sets), and since when.
    left_out_since: Mapping[str, datetime] = field(default_factory=dict)
    # When each exercise's stored dose last changed: a regress whose trigger is older
    # has been applied, so its message says what was done, not what will be.
    dose_changed_at: Mapping[str, datetime] = field(default_factory=dict)
    # The flare the last stored advice stood on (its first day, its baseline): a flare
    # outlasting the evidence window goes on from there, not from a baseline it raised.
    carried_flare: tuple[date, float] | None = None
    # A linked clinician's cleared exercises (None: all): a regress never moves onto an
    # easier variation outside them (decisions.plan_steps), and messages say the same.
    cleared: frozenset[str] | None = None
    # The person's IANA time zone: rules count days as they live them.
    timezone: str = "UTC"
    # Serious-cause risk factors from the screen (domain/screening.py): F2 reviews sooner.
    risk_factors: frozenset[str] = frozenset()
    # The earliest check-in or session after `now`, not loaded (a device's clock a little
    # ahead of ours): it starts to count then (horizon.holds_until).
    next_data_at: datetime | None = None
    # Outcome measures: the latest of each instrument ever, and those of the recent window
    # (service: api/services/history_queries.py), oldest first.
    outcomes: tuple[Outcome, ...] = ()


@dataclass(frozen=True)
class Reason:
    rule_id: str
    status: Status
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    exercises: tuple[str, ...] = ()
    # What triggered it (a check-in, a session, a flare's first day): with rule_id and an
    # exercise it names one decision, so a dose change is applied once, not on every
    # evaluation that sees the same evidence.
    source: str = ""


@dataclass(frozen=True)
class Advice:
    status: Status
    reasons: tuple[Reason, ...]
    exercises: dict[str, Action]
    ruleset_version: str
    evaluated_at: datetime
    # When the next check-in is due, and whether the evidence is too old to progress on.
    next_checkin_due_at: datetime | None = None
    stale: bool = False
    # Which outcome measures to ask for, and when (api/domain/outcome_rules.py).
    measures_due: tuple[MeasureDue, ...] = ()
