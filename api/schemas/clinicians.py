"""Clinician and patient shapes (docs/api.md: Clinicians)."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    RootModel,
    Strict,
    ValidationError,
)

from api.domain.thresholds import SPEC
from api.schemas.catalog import Slug
from api.schemas.common import NEXT_CURSOR, Input, Removed
from api.schemas.enums import enum_schema
from api.schemas.outcomes import OutcomePublic
from api.schemas.pain import AdvicePublic, CheckInPublic, StatusName, StoredAdvice
from api.schemas.screening import ScreeningHistory, ScreeningOutcome
from api.schemas.training import RoutineItemPublic, SessionPublic
from api.schemas.types import Day, Range, Timestamp


class InvitationPublic(BaseModel):
    code: str = Field(description="Give it to the patient; single use.")
    expires_at: Timestamp = Field(
        description="When the code stops working, 7 days after it was made (UTC)."
    )


class LinkCreate(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "K7QX-M2PA"}]})

    code: str = Field(
        min_length=4,
        max_length=20,
        description="The clinician's invitation code; dashes, spaces and letter case are ignored.",
    )


class PersonRef(BaseModel):
    id: uuid.UUID = Field(description="The person's account id.")
    display_name: str | None = Field(description="The name they chose; null if they set none.")
    email: str = Field(description="Their email address.")


class LinkPublic(BaseModel):
    id: uuid.UUID = Field(description="The link's id; `DELETE /v1/me/clinicians/{id}` ends it.")
    clinician: PersonRef = Field(description="The linked clinician.")
    created_at: Timestamp = Field(description="When the patient linked the clinician (UTC).")


class LinkPage(BaseModel):
    items: list[LinkPublic] = Field(
        description="Without `since`: every link, oldest first. With `since`: those made, "
        "or whose clinician's name or address changed, at or after it."
    )
    deleted: list[Removed] = Field(
        default_factory=list,
        description="With `since` only: links ended at or after it, by the patient or by "
        "the clinician's account being deleted (drop them from a cached list).",
    )
    next_cursor: str | None = Field(default=None, description=NEXT_CURSOR)


class PatientPublic(BaseModel):
    id: uuid.UUID = Field(description="The patient's account id, for `/v1/patients/{id}/...`.")
    display_name: str | None = Field(description="The name they chose; null if they set none.")
    email: str = Field(description="Their email address.")
    linked_at: Timestamp = Field(description="When they linked this clinician (UTC).")
    advice_status: StatusName | None = Field(
        description="The latest stored advice's status; null before any advice was stored"
    )
    last_activity_at: Timestamp | None = Field(description="Latest check-in or workout log")
    screened: bool = Field(description="Whether the patient has answered the screening")
    risk_factors: list[str] = Field(
        description="Serious-cause risk factors from the latest screening"
    )


class PatientPage(BaseModel):
    items: list[PatientPublic] = Field(description="Linked patients, oldest link first.")
    next_cursor: str | None = Field(default=None, description=NEXT_CURSOR)


# A plan names catalog exercises; the catalog has 10 today, and a page of them is plenty.
MAX_PLAN_EXERCISES = 100
# Map keys are slugs: anything else is refused, which the schema says explicitly.
ONLY_SLUG_KEYS: dict[str, JsonValue] = {"additionalProperties": False}


class DoseCap(Input):
    sets: int | None = Field(
        default=None, ge=1, le=10, description="At most this many sets; null: not capped."
    )
    reps: int | None = Field(
        default=None, ge=1, le=100, description="At most this many reps a set; null: not capped."
    )
    hold_seconds: int | None = Field(
        default=None,
        ge=1,
        le=120,
        description="At most this many seconds a hold; null: not capped.",
    )


class PlanIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "cleared": ["glute-bridge", "knee-hug", "lower-back-rotational-stretch"],
                    "start_dates": {"superman": "2026-12-01"},
                    "caps": {"glute-bridge": {"sets": 2, "reps": 8}},
                }
            ]
        },
    )

    cleared: list[Slug] | None = Field(
        default=None,
        max_length=MAX_PLAN_EXERCISES,
        description="Only these exercises are built; null clears every one.",
    )
    start_dates: dict[Slug, Day] = Field(
        default_factory=dict,
        max_length=MAX_PLAN_EXERCISES,
        description="Not built before this date (patient's time zone).",
        json_schema_extra=ONLY_SLUG_KEYS,
    )
    caps: dict[Slug, DoseCap] = Field(
        default_factory=dict,
        max_length=MAX_PLAN_EXERCISES,
        description="The dose ladder never goes above these.",
        json_schema_extra=ONLY_SLUG_KEYS,
    )
    cleared_despite_screening: list[Slug] = Field(
        default_factory=list,
        max_length=MAX_PLAN_EXERCISES,
        description="Exercises of `cleared` that the patient's screening rules out (a "
        "caution, spinal surgery, under 16), cleared despite the answers in force now. "
        "Only these are: listing an exercise in `cleared` alone never lifts an exclusion. "
        "Clearances given earlier stay while the exercise stays in `cleared`.",
    )


def _threshold(name: str) -> Any:
    default, bound = SPEC[name]
    return Field(
        default=None,
        description=f"Default {default:g}; {bound.low:g} to {bound.high:g} ({bound.source}).",
        json_schema_extra={"minimum": bound.low, "maximum": bound.high},
    )


# Strict: `true` is not the number 1. Bounds are checked by the rules' own table (they
# depend on each other, and the message names the source); the schema only states them.
ThresholdValue = Annotated[float, Strict()] | None


class ThresholdsIn(Input):
    """A clinician's overrides; a threshold left out (or null) keeps its default, and an
    empty object restores them all."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"during_pain_max": 4, "during_pain_safe_max": 2}]}
    )

    during_pain_max: ThresholdValue = _threshold("during_pain_max")
    during_pain_safe_max: ThresholdValue = _threshold("during_pain_safe_max")
    next_morning_rise_regress: ThresholdValue = _threshold("next_morning_rise_regress")
    next_morning_pain_max: ThresholdValue = _threshold("next_morning_pain_max")
    flare_points: ThresholdValue = _threshold("flare_points")
    flare_fraction: ThresholdValue = _threshold("flare_fraction")
    flare_days_for_doctor: ThresholdValue = _threshold("flare_days_for_doctor")
    rest_pain_doctor: ThresholdValue = _threshold("rest_pain_doctor")
    review_weeks: ThresholdValue = _threshold("review_weeks")
    review_min_mean: ThresholdValue = _threshold("review_min_mean")
    progress_rpe_max: ThresholdValue = _threshold("progress_rpe_max")
    volume_growth_max: ThresholdValue = _threshold("volume_growth_max")

    def overrides(self) -> dict[str, float]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


# A threshold added to the rules but not here could never be tuned; fail at import.
if set(ThresholdsIn.model_fields) != set(SPEC):
    differ = sorted(set(SPEC) ^ set(ThresholdsIn.model_fields))
    raise RuntimeError(f"ThresholdsIn fields differ from the rule thresholds: {differ}")


class PlanPublic(PlanIn):
    updated_by: uuid.UUID | None = Field(
        description="The clinician who last set the plan; null if none has, or their account "
        "was deleted."
    )
    updated_at: Timestamp | None = Field(
        description="When the plan was last set (UTC); null if no clinician has set one."
    )
    cleared_under: dict[str, list[str]] = Field(
        default_factory=dict,
        description="What each exercise was cleared despite (cautions, or "
        "`spinal_surgery_last_12_months` / `under_16`). A clearance covers only those: a "
        "later answer rules the exercise out again until it is cleared again.",
    )


class ThresholdsPublic(BaseModel):
    values: dict[str, float] = Field(description="This patient's overrides")
    defaults: dict[str, float] = Field(description="Every threshold's default, by name")
    bounds: dict[str, Range] = Field(
        description="Every threshold's allowed range, by name, as [lowest, highest]"
    )


class PatientSummary(BaseModel):
    patient: PatientPublic = Field(description="The patient, as the patient list shows them")
    advice: AdvicePublic | None = Field(
        description="The patient's advice, evaluated when this summary is read"
    )
    routine: list[RoutineItemPublic] = Field(
        description="The exercises in force today and their doses, as the patient's routine "
        "shows them"
    )
    plan: PlanPublic = Field(
        description="What linked clinicians set for the patient; nothing set when no plan exists"
    )
    thresholds: dict[str, float] = Field(
        description="The patient's threshold overrides, by name; empty: all defaults"
    )
    checkins: list[CheckInPublic] = Field(description="The latest 30")
    sessions: list[SessionPublic] = Field(description="The latest 20")
    advice_history: list[StoredAdvice] = Field(description="The latest 20 changes")
    outcomes: list[OutcomePublic] = Field(
        description="The latest 20 outcome measures answered, newest first, each with its "
        "change from the patient's first of that instrument"
    )
    screening: ScreeningHistory = Field(
        description="The patient's screening answers in force, and earlier ones"
    )
    screening_outcome: ScreeningOutcome = Field(
        description="What the latest screening rules out or limits today"
    )


class _Details(BaseModel):
    # Kept if a later version stores more: a client reads the fields it knows.
    model_config = ConfigDict(extra="allow")


class StatusAlertDetails(_Details):
    """`see_doctor` and `urgent_care`: the patient's advice reached that status."""

    rules: list[str] = Field(description="The rules that set the status (see GET /v1/rules)")


class InactiveAlertDetails(_Details):
    """`inactive`: the patient has logged no session for a while."""

    last_log_at: Timestamp = Field(description="Their latest logged session (or the link)")
    days: int = Field(description="Whole days since then")


class ScreeningAlertDetails(_Details):
    """`screening`: a new screening rules out exercises the clinician had cleared, or
    adds serious-cause risk factors."""

    screening_id: uuid.UUID = Field(description="The screening answers that raised it")
    excluded_cleared: list[str] = Field(description="Cleared exercises it now excludes")
    reasons: list[str] = Field(description="Why they are excluded")
    risk_factors: list[str] = Field(description="All risk factors the screening reports")
    new_risk_factors: list[str] = Field(description="Those the previous one did not")


class OutcomeAlertDetails(_Details):
    """`outcome`: the patient answered an outcome measure with a result that asks for a
    clinician (a high-risk STarT Back: clinician-supported care is suggested)."""

    outcome_id: uuid.UUID = Field(description="The outcome (GET /v1/patients/{id}/summary)")
    instrument: str = Field(description="Which measure (`startback`)")
    score: float = Field(description="Its score")
    subscores: dict[str, float] = Field(description="Its subscale scores (`distress`)")
    band: str = Field(description="Its band (`high`)")


_AlertKind = Literal["see_doctor", "urgent_care", "inactive", "screening", "outcome"]
AlertKind = Annotated[
    _AlertKind,
    enum_schema(
        "AlertKind",
        _AlertKind,
        "Why a clinician is alerted: the advice reached `see_doctor` or `urgent_care`, the "
        "patient has been `inactive`, a new `screening` rules out or flags something, or an "
        "`outcome` measure asks for a clinician (a high-risk STarT Back).",
    ),
]
ALERT_DETAILS: dict[str, type[_Details]] = {
    "see_doctor": StatusAlertDetails,
    "urgent_care": StatusAlertDetails,
    "inactive": InactiveAlertDetails,
    "screening": ScreeningAlertDetails,
    "outcome": OutcomeAlertDetails,
}


class AlertPublic(BaseModel):
    id: uuid.UUID = Field(
        description="Stable across reads; acknowledge it with `POST /v1/alerts/{id}/ack`"
    )
    patient_id: uuid.UUID = Field(description="The patient it is about")
    kind: AlertKind = Field(description="Why it was raised; `details` follow from it")
    details: (
        StatusAlertDetails | InactiveAlertDetails | ScreeningAlertDetails | OutcomeAlertDetails
    ) = Field(description="What it is about, by `kind` (see each schema)")
    risk_factors: list[str] = Field(
        description="The patient's serious-cause risk factors from their latest screening"
    )
    created_at: Timestamp = Field(
        description="When it was raised (UTC); for one worked out on reading, when its cause arose"
    )
    acknowledged_at: Timestamp | None = Field(
        description="When the clinician acknowledged it (UTC); null while open"
    )


class AlertPage(BaseModel):
    items: list[AlertPublic] = Field(
        description="Open alerts about patients still linked, newest first"
    )
    next_cursor: str | None = Field(default=None, description=NEXT_CURSOR)


class LinkActionDetails(_Details):
    """`linked` and `unlinked`: who made or ended the link."""

    by: Literal["patient"] = Field(description="Who made or ended the link (always `patient`)")


class RoutineActionDetails(_Details):
    """`set_routine`: the plan as the clinician sent it (`PUT .../routine`), and what
    each exercise was cleared despite."""

    cleared: list[str] | None = Field(
        default=None, description="The exercises cleared, as sent; null: every exercise"
    )
    start_dates: dict[str, str] = Field(
        default_factory=dict,
        description="Start dates as sent, by exercise slug (YYYY-MM-DD, patient's time zone)",
    )
    caps: dict[str, DoseCap] = Field(
        default_factory=dict, description="Dose caps as sent, by exercise slug"
    )
    cleared_despite_screening: list[str] = Field(
        default_factory=list,
        description="Exercises cleared despite the screening answers, as sent",
    )
    cleared_under: dict[str, list[str]] = Field(
        default_factory=dict,
        description="What each exercise was cleared despite, as recorded (see PlanPublic)",
    )


class ThresholdActionDetails(RootModel[dict[str, float]]):
    """`set_thresholds`: the overrides set, by threshold name."""


class ResolveActionDetails(BaseModel):
    """`resolve_red_flags`: an empty object; the action and its time are the record."""

    model_config = ConfigDict(extra="forbid")


_ClinicianActionName = Literal[
    "linked", "unlinked", "set_routine", "set_thresholds", "resolve_red_flags"
]
ClinicianActionName = Annotated[
    _ClinicianActionName,
    enum_schema(
        "ClinicianActionName",
        _ClinicianActionName,
        "What a clinician did (its `details` say what it set).",
    ),
]
ACTION_DETAILS: dict[str, type[BaseModel]] = {
    "linked": LinkActionDetails,
    "unlinked": LinkActionDetails,
    "set_routine": RoutineActionDetails,
    "set_thresholds": ThresholdActionDetails,
    "resolve_red_flags": ResolveActionDetails,
}
ACTION_DETAILS_SCHEMAS: tuple[type[BaseModel], ...] = tuple(dict.fromkeys(ACTION_DETAILS.values()))


def undocumented_details(action: str, details: Any) -> str | None:
    """Why stored `details` do not match what the document says `action` stores (every
    required field, nothing more, right types), or None when they do."""
    model = ACTION_DETAILS.get(action)
    if model is None:
        return f"no details schema for action {action}"
    try:
        parsed = model.model_validate_json(json.dumps(details), strict=True)
    except ValidationError as error:
        return str(error)
    extra = parsed.model_extra if not isinstance(parsed, RootModel) else None
    return f"undocumented {sorted(extra)}" if extra else None


def action_details() -> Any:
    """The `details` field: served as stored, documented by `action`."""
    return Field(
        description="What the action set, by `action`: "
        + "; ".join(f"{name}: {model.__name__}" for name, model in ACTION_DETAILS.items()),
        json_schema_extra={
            "anyOf": [
                {"$ref": f"#/components/schemas/{m.__name__}"} for m in ACTION_DETAILS_SCHEMAS
            ]
        },
    )


class ClinicianActionPublic(BaseModel):
    clinician_id: uuid.UUID | None = Field(description="Null once that account is deleted")
    action: ClinicianActionName = Field(description="What was done")
    details: dict[str, Any] = action_details()
    at: Timestamp = Field(description="When it was done (UTC)")
