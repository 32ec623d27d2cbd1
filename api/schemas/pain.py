"""Check-in and advice shapes (docs/api.md: Pain, advice, progress)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from api.schemas.catalog import Slug
from api.schemas.common import Input
from api.schemas.enums import InstrumentName, enum_schema
from api.schemas.evidence import EVIDENCE_DESCRIPTION, EVIDENCE_DOCUMENT
from api.schemas.types import Instant, Timestamp, Uuid

_Phase = Literal["daily", "before", "during", "after", "next_morning"]
Phase = Annotated[
    _Phase,
    enum_schema(
        "Phase",
        _Phase,
        "When the pain was felt: `daily` (at rest, any time of day), `before`, `during` or "
        "`after` a session (give its `session_id`), `next_morning` (the morning after one).",
    ),
]
_StatusName = Literal["progress", "maintain", "hold", "regress", "see_doctor", "urgent_care"]
StatusName = Annotated[
    _StatusName,
    enum_schema(
        "AdviceStatus",
        _StatusName,
        "The advice overall, mildest first; show the reasons' messages with it. `progress`: "
        "a step up next session. `maintain`: keep going at the same doses. `hold`: the same "
        "doses, no step up until the reason clears. `regress`: some exercises eased back a "
        "step. `see_doctor`: arrange to see a doctor or physiotherapist; gentle movement "
        "only. `urgent_care`: stop exercising and get urgent care now (say it prominently).",
    ),
]
_ActionName = Literal["progress", "maintain", "hold", "regress", "stop"]
ActionName = Annotated[
    _ActionName,
    enum_schema(
        "ExerciseAction",
        _ActionName,
        "What happens to one exercise: `progress` (next dose up), `maintain`, `hold` (no "
        "step up), `regress` (a step down: a lower dose or an easier variation), `stop` "
        "(left out of sessions for now).",
    ),
]


class RedFlags(Input):
    """Answers to the red-flag questions; leave out what was not asked."""

    saddle_numbness: bool | None = Field(
        default=None, description="New numbness around the genitals or back passage"
    )
    bladder_bowel_change: bool | None = Field(
        default=None, description="New trouble passing urine, or loss of bladder/bowel control"
    )
    both_legs: bool | None = Field(default=None, description="Symptoms in both legs")
    progressive_weakness: bool | None = Field(
        default=None, description="Leg weakness that is getting worse, or foot drop"
    )
    sexual_dysfunction: bool | None = Field(default=None, description="New sexual problems")
    fever_or_unwell: bool | None = Field(default=None, description="Fever, chills, feeling unwell")
    unexplained_weight_loss: bool | None = Field(
        default=None, description="Weight loss with no known reason"
    )
    cancer_history: bool | None = Field(
        default=None, description="A history of cancer, and this back pain is new"
    )
    significant_trauma: bool | None = Field(
        default=None, description="A fall or accident (or a minor one with osteoporosis)"
    )
    night_pain: bool | None = Field(
        default=None, description="Constant night pain not eased by changing position"
    )

    def yes(self) -> frozenset[str]:
        return frozenset(name for name, value in self.model_dump().items() if value)


Assessor = Literal["emergency_department", "doctor", "physiotherapist"]


class Assessment(Input):
    """Who assessed the person after a red flag, and when (ruleset v2)."""

    assessed_by: Assessor = Field(description="Who assessed you")
    assessed_at: Instant = Field(
        description="When: at or after the red flag it clears, and not after this check-in"
    )


class AssessmentPublic(BaseModel):
    assessed_by: str = Field(
        description="emergency_department, doctor or physiotherapist; `unspecified` for a "
        "resolution recorded before ruleset v2 (kept valid by its migration)"
    )
    assessed_at: Timestamp = Field(
        description="When the person was assessed, in UTC (for `unspecified`: when the "
        "resolution was recorded)"
    )


class CheckInCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "5b0c3f4e-6a0e-4d7a-9a53-3f1f6d2f9b10",
                    "recorded_at": "2026-11-24T08:30:00+01:00",
                    "phase": "daily",
                    "pain": 3,
                    "locations": ["lower-back"],
                    "radiating_below_knee": False,
                    "red_flags": {"saddle_numbness": False, "bladder_bowel_change": False},
                    "note": "Stiff after sitting.",
                }
            ]
        },
    )

    id: Uuid | None = Field(
        default=None, description="Client-generated, so an offline retry is never stored twice."
    )
    recorded_at: Instant = Field(
        description="When the person answered, with its offset (kept: `recorded_offset`). "
        "A time up to 5 minutes ahead of the server's clock is accepted (device clocks "
        "drift) and stored as the server's time of arrival, so the advice returned already "
        "counts it; further ahead is a 422 (`in_future`)."
    )
    phase: Phase = Field(
        description="When the pain was felt; `daily` and `next_morning` count as rest pain"
    )
    pain: int = Field(ge=0, le=10, description="0 = no pain, 10 = worst imaginable")
    session_id: Uuid | None = Field(
        default=None,
        description="Your session (POST /v1/sessions) this pain belongs to. Another "
        "person's session is a 422 naming this field; an id the server has not seen yet is "
        "taken (an offline app may sync the check-in before its session).",
    )
    exercise_slug: Slug | None = Field(
        default=None,
        description="The catalog exercise this pain is about; without it, it counts for "
        "the session's exercises (or the whole routine)",
    )
    locations: list[Slug] = Field(
        default_factory=list,
        max_length=10,
        description="Where it hurts, as slugs (`lower-back`); one naming part of the leg "
        "(`left-calf`) counts as a leg symptom (RF4)",
    )
    radiating_below_knee: bool | None = Field(
        default=None, description="Pain spreading below the knee (RF4 reads it)"
    )
    leg_numbness: bool | None = Field(
        default=None, description="Numbness or pins and needles in a leg (RF4 reads it)"
    )
    red_flags: RedFlags = Field(
        default_factory=RedFlags, description="The red-flag answers; leave out what was not asked"
    )
    red_flags_resolved: bool | Assessment = Field(
        default=False,
        description="The person has been seen by a professional about an earlier red flag "
        "(only with no red flag in this check-in). Ruleset v2: give the assessment, "
        "`{assessed_by, assessed_at}`; only an assessment at or after a red flag clears "
        "it. `true` alone is kept as a statement and clears nothing.",
    )
    note: str | None = Field(
        default=None,
        max_length=1000,
        description="Free text from the person, kept with the check-in; the rules do not read it",
    )


class CheckInPublic(BaseModel):
    id: uuid.UUID = Field(description="The check-in's id (the client's, when it sent one)")
    recorded_at: Timestamp = Field(
        description="When the person answered, in UTC (a time sent ahead of the server's "
        "clock is stored as its time of arrival)"
    )
    recorded_offset: str | None = Field(
        description="The UTC offset `recorded_at` was sent with (`+05:30`): the person's "
        "local time when they answered is `recorded_at` shifted by it. Null for check-ins "
        "stored before offsets were kept.",
        examples=["+01:00"],
    )
    received_at: Timestamp = Field(
        description="When the server stored it: what `GET /v1/checkins?since=` filters on."
    )
    phase: Phase = Field(description="When the pain was felt, as sent")
    pain: int = Field(description="Pain on the 0-10 scale: 0 = no pain, 10 = worst imaginable")
    session_id: uuid.UUID | None = Field(
        description="The session this pain belongs to, as sent (it may not be synced yet); "
        "null when none was named"
    )
    exercise_slug: str | None = Field(
        description="The exercise this pain is about; null when none was named"
    )
    locations: list[str] = Field(description="Where it hurts, as slugs, as sent")
    radiating_below_knee: bool | None = Field(
        description="Pain spreading below the knee; null when not answered"
    )
    leg_numbness: bool | None = Field(
        description="Numbness or pins and needles in a leg; null when not answered"
    )
    red_flags: dict[str, bool] = Field(
        description="The red-flag answers given, by question name (as in `RedFlags`); a "
        "question not answered is absent"
    )
    red_flags_resolved: bool = Field(
        description="True when this check-in recorded a resolution: an assessment, or a "
        "bare `true` (which clears nothing)"
    )
    assessment: AssessmentPublic | None = Field(
        description="Who assessed the person and when, recorded with the resolution; null "
        "when none was given"
    )
    note: str | None = Field(description="The person's note, as sent; null when none")


class ReasonPublic(BaseModel):
    rule_id: str = Field(
        examples=["P1"], description="The rule that fired, as `GET /v1/rules` lists it"
    )
    status: StatusName = Field(
        description="What this rule calls for; the advice's status is the most severe of "
        "these (V1's `hold` aside)"
    )
    message: str = Field(
        description="What to tell the person (English), ending with what to do next; show it as is"
    )
    evidence: dict[str, Any] = Field(
        description=EVIDENCE_DESCRIPTION, json_schema_extra=EVIDENCE_DOCUMENT
    )
    exercises: list[str] = Field(
        description="Slugs of the exercises this reason acts on; empty when it concerns the "
        "whole programme (red flags, F2)"
    )


# A heading per status, for the top of an advice screen; the reasons' messages say why.
STATUS_TITLES: dict[str, str] = {
    "progress": "Ready for a step up",
    "maintain": "Keep going as you are",
    "hold": "Stay at your current doses",
    "regress": "Ease back a step",
    "see_doctor": "See a doctor or physiotherapist",
    "urgent_care": "Stop exercising and get urgent care now",
}


class MeasureDuePublic(BaseModel):
    instruments: list[InstrumentName] = Field(
        description="Ask for any one of these (GET /v1/instruments describes each)"
    )
    due_at: Timestamp | None = Field(
        description="When it is next due (UTC; in the past: overdue); null: never answered, "
        "so due now"
    )


class AdvicePublic(BaseModel):
    status: StatusName = Field(
        description="The overall advice: the most severe of the reasons' statuses, else `maintain`"
    )
    reasons: list[ReasonPublic] = Field(
        description="Every rule that fired, most severe first, each with the data that fired "
        "it; when none did, one M0 reason says so (`maintain`). Show the messages. (Advice "
        "stored before M0, under ruleset v2 too, may have none.)"
    )
    exercises: dict[str, ActionName] = Field(
        description="What happens to each active exercise of the routine (those the screen "
        "allows), by slug"
    )
    ruleset_version: str = Field(
        description="The rule set that gave this advice: `v2`; `v1` on advice stored before it"
    )
    evaluated_at: Timestamp = Field(
        description="When the rules were evaluated, in UTC (for `GET /v1/advice`, the moment "
        "of the request)"
    )
    next_checkin_due_at: Timestamp | None = Field(
        default=None,
        description="When the next pain check-in is due (a day after the last rest-pain "
        "check-in, or the morning after a session); null on advice stored before v2",
    )
    stale: bool | None = Field(
        default=None,
        description="No rest-pain or `before` check-in in the last 72 h: progression is "
        "held until one arrives; null on advice stored before v2",
    )
    measures_due: list[MeasureDuePublic] | None = Field(
        default=None,
        description="The outcome measures to ask for (POST /v1/outcomes) and when: STarT Back "
        "once at the start, average pain weekly, the ODI or the PSFS every 4 weeks. Null "
        "in the advice history (it follows the outcomes, not the advice).",
    )

    @computed_field(  # type: ignore[prop-decorator]
        description="A short heading for the status, for the top of an advice screen (the "
        "same for every advice of a status; translate by `status`)",
        examples=["Keep going as you are"],
    )
    @property
    def title(self) -> str:
        return STATUS_TITLES[self.status]


class StoredAdvice(AdvicePublic):
    # Stored advice keeps what it was; which measures are due is worked out when read.
    measures_due: None = Field(default=None, description="Always null here: see GET /v1/advice")
    id: uuid.UUID = Field(description="The id of this entry of the advice history")


class CheckInResult(BaseModel):
    checkin: CheckInPublic = Field(
        description="The check-in as stored (the first one, when this was a retry)"
    )
    advice: AdvicePublic = Field(description="The advice now, with this check-in counted")


class CheckInPage(BaseModel):
    items: list[CheckInPublic] = Field(
        description="Oldest first by `received_at`; with `since`, those stored at or after it"
    )
    next_cursor: str | None = Field(
        description="Pass back as `cursor` for the next page; null on the last page"
    )


class AdvicePage(BaseModel):
    items: list[StoredAdvice] = Field(
        description="Each change of advice, newest first; with `since`, those stored at or "
        "after it, oldest first"
    )
    next_cursor: str | None = Field(
        description="Pass back as `cursor` for the next page; null on the last page"
    )
