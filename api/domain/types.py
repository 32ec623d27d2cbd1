"""Plain data the rule service reads and writes. No framework, database or clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Status = Literal["progress", "maintain", "hold", "regress", "see_doctor", "urgent_care"]
Phase = Literal["daily", "before", "during", "after", "next_morning"]
Action = Literal["progress", "maintain", "hold", "regress", "stop"]

# CLINICAL.md: urgent_care > see_doctor > regress > hold > maintain > progress.
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
# Other serious causes (NICE CKS): see a doctor soon.
SERIOUS_CAUSE_FLAGS = frozenset(
    {"fever_or_unwell", "unexplained_weight_loss", "cancer_history", "significant_trauma"}
)
NIGHT_PAIN_FLAG = "night_pain"
ALL_RED_FLAGS = CAUDA_EQUINA_FLAGS | SERIOUS_CAUSE_FLAGS | {NIGHT_PAIN_FLAG}
# Phases measured away from exercise: the person's usual ("at rest") pain.
REST_PHASES = frozenset({"daily", "before", "next_morning"})


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

    @property
    def cauda_equina(self) -> bool:
        return bool(self.red_flags & CAUDA_EQUINA_FLAGS)

    @property
    def serious_cause(self) -> bool:
        return bool(self.red_flags & SERIOUS_CAUSE_FLAGS)

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
    last_serious_cause: CheckIn | None = None
    last_night_pain: CheckIn | None = None
    last_resolution: CheckIn | None = None
    # The person's IANA time zone: rules count days as they live them.
    timezone: str = "UTC"


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
