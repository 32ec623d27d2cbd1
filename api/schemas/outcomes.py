"""Outcome measure shapes (docs/api.md: Outcome measures)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from api.domain.instruments import Instrument
from api.schemas.common import NEXT_CURSOR, Input
from api.schemas.enums import InstrumentName, enum_schema
from api.schemas.pain import AdvicePublic
from api.schemas.types import Instant, Timestamp, Uuid

_Direction = Literal["improved", "worsened", "unchanged"]
Direction = Annotated[
    _Direction,
    enum_schema(
        "ChangeDirection",
        _Direction,
        "Which way the score moved from the first, for the person (lower pain and "
        "disability, a higher PSFS, are better).",
    ),
]

_ACTIVITY = {
    "type": "object",
    "properties": {
        "activity": {"type": "string", "minLength": 1, "maxLength": 200},
        "score": {"type": "integer", "minimum": 0, "maximum": 10},
    },
    "required": ["activity", "score"],
    "additionalProperties": False,
}
# Validated against the instrument by the service (each error names its item); the
# document lists every item id the instruments served take (answers_schema).
Answers = Annotated[dict[str, Any], WithJsonSchema({"type": "object", "maxProperties": 20})]


def answers_schema(instruments: Mapping[str, Instrument]) -> dict[str, Any]:
    """`answers` as the document shows it: each item id of the instruments served (an
    instrument takes only its own), an option's value or null; PSFS its activities."""
    properties: dict[str, Any] = {}
    for instrument in instruments.values():
        for item in instrument.items:
            if instrument.scoring.method == "activities_mean":
                scoring = instrument.scoring
                properties[item.id] = {
                    "type": "array",
                    "items": _ACTIVITY,
                    "minItems": scoring.min_activities or 1,
                    "maxItems": scoring.max_activities or 20,
                }
            else:
                values = [o.value for o in item.options]
                # A range, not an enum: the options are whole numbers from low to high.
                option = {"type": "integer", "minimum": min(values), "maximum": max(values)}
                properties.setdefault(item.id, {"anyOf": [{"type": "null"}]})
                properties[item.id]["anyOf"].append(option)
    return {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "maxProperties": 20,
    }


class OutcomeCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0e0f5d57-7d8e-4f0a-a4c5-1f4f7a1b2c3d",
                    "instrument": "startback",
                    "recorded_at": "2026-11-24T08:30:00+01:00",
                    "answers": {
                        "q1": 1,
                        "q2": 0,
                        "q3": 1,
                        "q4": 1,
                        "q5": 1,
                        "q6": 1,
                        "q7": 1,
                        "q8": 0,
                        "q9": 3,
                    },
                }
            ]
        }
    )

    id: Uuid | None = Field(
        default=None, description="Client-generated, so an offline retry is never stored twice."
    )
    instrument: InstrumentName = Field(description="Which measure was answered")
    recorded_at: Instant = Field(
        description="When the person answered, with its offset (kept: `recorded_offset`); "
        "up to 5 minutes ahead of the server's clock is taken as now, further is a 422"
    )
    answers: Answers = Field(
        description="Keyed by item id (GET /v1/instruments), each value one of the item's "
        'option `value`s; for `psfs`, `{"activities": [{"activity": text, "score": 0-10}]}` '
        "with 3 to 5 activities. An ODI section left out (or null) is skipped; at least 8 of "
        "its 10 must be answered. Each answer that cannot be scored is named in the 422 "
        "(`answers.q9`)."
    )


class ChangePublic(BaseModel):
    points: float = Field(description="This score minus the first score, in the score's units")
    percent: float | None = Field(
        description="`points` as a percentage of the first score; null when the first was 0"
    )
    meaningful: bool = Field(
        description="At least the instrument's minimal important change (GET /v1/instruments)"
    )
    direction: Direction = Field(description="Better, worse or the same, for the person")


class OutcomePublic(BaseModel):
    id: uuid.UUID = Field(description="The outcome's id (the client's, when it sent one)")
    instrument: InstrumentName = Field(description="Which measure was answered")
    recorded_at: Timestamp = Field(description="When the person answered, in UTC")
    recorded_offset: str | None = Field(
        description="The UTC offset `recorded_at` was sent with (`+01:00`)", examples=["+01:00"]
    )
    received_at: Timestamp = Field(
        description="When the server stored it: what `GET /v1/outcomes?since=` filters on"
    )
    answers: dict[str, Any] = Field(description="The answers as scored (skipped items absent)")
    score: float = Field(description="The score (GET /v1/instruments says its range and method)")
    subscores: dict[str, float] = Field(
        description="Subscale scores by id (STarT Back: `distress`); empty when it has none"
    )
    band: str | None = Field(
        description="The band the score falls in (STarT Back: low, medium or high risk; ODI: "
        "minimal to extreme disability); null when the instrument has no bands"
    )
    change_from_first: ChangePublic | None = Field(
        description="The change from the person's first answer of this instrument; null for "
        "the first itself, and for STarT Back (a screen, not a change measure)"
    )


class OutcomeResult(BaseModel):
    outcome: OutcomePublic = Field(description="The outcome as stored and scored")
    advice: AdvicePublic = Field(description="The advice now, with this outcome counted")


class OutcomePage(BaseModel):
    items: list[OutcomePublic] = Field(description="Outcomes, oldest first by arrival")
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class OptionPublic(BaseModel):
    value: int = Field(description="What to send as the answer")
    label: str | None = Field(description="What the option says; null where not shipped")
    points: float | None = Field(
        description="What it adds to the score when not its value (STarT Back item 9)"
    )


class ItemPublic(BaseModel):
    id: str = Field(description="The key of its answer in `answers`")
    title: str | None = Field(description="A section name (ODI), where it has one")
    text: str | None = Field(
        description="The question; null where its licence does not let this server ship it "
        "(ODI, unless the deployer provides the licensed text)"
    )
    options: list[OptionPublic] = Field(description="The answers it takes")


class SubscalePublic(BaseModel):
    id: str = Field(description="Its key in an outcome's `subscores`")
    items: list[str] = Field(description="The items it sums")


class ScoringPublic(BaseModel):
    method: str = Field(description="`sum`, `mean`, `percent_of_max` or `activities_mean`")
    description: str = Field(description="How the score is worked out, in words")
    min: float = Field(description="Lowest possible score")
    max: float = Field(description="Highest possible score")
    subscales: list[SubscalePublic] = Field(description="Subscales it reports; empty when none")
    min_answered: int | None = Field(
        description="The fewest items answered for a score (the rest may be left out); null: "
        "every item is needed"
    )
    min_activities: int | None = Field(description="PSFS: the fewest activities to rate")
    max_activities: int | None = Field(description="PSFS: the most activities to rate")


class BandPublic(BaseModel):
    band: str = Field(description="Its id, as an outcome's `band` gives it")
    label: str = Field(description="What to show")
    when: list[dict[str, Any]] = Field(
        description="All must hold: `{of: score or a subscale id, min?, max?}`, inclusive; "
        "the first band listed whose conditions hold is the one"
    )


class ImportantChangePublic(BaseModel):
    points: float = Field(description="A change of at least this many points is meaningful")
    percent: float | None = Field(description="Or at least this percentage of the first score")


class LicencePublic(BaseModel):
    note: str = Field(description="The terms of use")
    attribution: str = Field(description="Whom to credit, as the copyright holder asks")


class InstrumentPublic(BaseModel):
    instrument: InstrumentName = Field(description="Its name, as outcomes give it")
    title: str = Field(description="Its full name")
    recall: str = Field(description="The period the questions ask about")
    better: Literal["lower", "higher"] = Field(description="Which way a score is better")
    items: list[ItemPublic] = Field(description="The questions, in order")
    scoring: ScoringPublic = Field(description="How answers become a score")
    bands: list[BandPublic] = Field(description="Score bands, in order; empty when none")
    minimal_important_change: ImportantChangePublic | None = Field(
        description="The smallest change that matters to people; null for a screen"
    )
    due_every_days: int | None = Field(
        description="How often it is asked again; null: once, at the start of an episode"
    )
    licence: LicencePublic = Field(description="Its licence and attribution")
    loinc: str | None = Field(
        description="Its LOINC panel code, where LOINC has one (the FHIR export names the "
        "questionnaire by it)"
    )


class InstrumentList(BaseModel):
    items: list[InstrumentPublic] = Field(description="Every instrument, by name")
