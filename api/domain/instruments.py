"""Outcome measures (issue 19): an instrument's definition as data, and its scoring.

Pure: the definitions come from seed_data/instruments/ (read by api/services/instruments.py),
answers come from the person; out comes a score, subscores, a band and the change from a
first score, or the answers that cannot be scored, each named by its item. Scoring rules
live in the data (method, subscales, bands, minimal important change), not in code per
instrument, so a reader audits one file per instrument.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

Method = Literal["sum", "mean", "percent_of_max", "activities_mean"]
Better = Literal["lower", "higher"]
Direction = Literal["improved", "worsened", "unchanged"]
# Scores are shown to one decimal place (a mean of 3-5 answers, a percentage).
DECIMALS = 1


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Data):
    value: int
    label: str | None = None
    # What the answer adds to the score, when not its value (STarT Back item 9).
    points: float | None = None

    @property
    def scores(self) -> float:
        return self.value if self.points is None else self.points


class Item(_Data):
    id: str
    title: str | None = None
    # None where the licence does not let the server ship it (ODI without a licensed file).
    text: str | None = None
    options: tuple[Option, ...]


class Subscale(_Data):
    id: str
    items: tuple[str, ...]


class Scoring(_Data):
    method: Method
    description: str
    min: float
    max: float
    subscales: tuple[Subscale, ...] = ()
    # percent_of_max: the fewest items answered for a score (the rest may be left out).
    min_answered: int | None = None
    min_activities: int | None = None
    max_activities: int | None = None


class Condition(_Data):
    of: str  # "score" or a subscale id
    min: float | None = None
    max: float | None = None

    def holds(self, values: Mapping[str, float]) -> bool:
        value = values[self.of]
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


class Band(_Data):
    band: str
    label: str
    when: tuple[Condition, ...]


class ImportantChange(_Data):
    points: float
    percent: float | None = None


class Licence(_Data):
    note: str
    attribution: str


class Instrument(_Data):
    instrument: str
    title: str
    recall: str
    better: Better
    licence: Licence
    items: tuple[Item, ...]
    scoring: Scoring
    bands: tuple[Band, ...] = ()
    minimal_important_change: ImportantChange | None = None
    # How often it is asked again (None: once, at the start of an episode).
    due_every_days: int | None = None
    # Its text is copyrighted and comes from a file the deployer provides.
    licensed_text: bool = False
    # LOINC codes for the FHIR export: the panel (form) and the score, where LOINC has them.
    loinc: str | None = None
    score_loinc: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        ids = [i.id for i in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("item ids must be unique")
        names = {"score"} | {s.id for s in self.scoring.subscales}
        for sub in self.scoring.subscales:
            if not set(sub.items) <= set(ids):
                raise ValueError(f"subscale {sub.id} names an unknown item")
        for band in self.bands:
            if any(c.of not in names for c in band.when):
                raise ValueError(f"band {band.band} reads an unknown score")
        if self.scoring.method == "activities_mean" and len(self.items) != 1:
            raise ValueError("activities_mean takes one item: the activity rating")
        return self

    def with_text(self, text: Mapping[str, Any]) -> Instrument:
        """The instrument with licensed item text filled in: {item id: {text, options:
        {value: label}}} (the deployer's file, api/services/instruments.py)."""
        items = []
        for item in self.items:
            given = text.get(item.id) or {}
            labels = {int(k): v for k, v in (given.get("options") or {}).items()}
            items.append(
                item.model_copy(
                    update={
                        "text": given.get("text", item.text),
                        "options": tuple(
                            o.model_copy(update={"label": labels.get(o.value, o.label)})
                            for o in item.options
                        ),
                    }
                )
            )
        return self.model_copy(update={"items": tuple(items)})


class AnswerError(ValueError):
    """Answers that cannot be scored: (field, message, code) for each, the field named as
    the request names it (`answers.q9`), the code one of the API's field codes."""

    def __init__(self, errors: Sequence[tuple[str, str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m, _ in errors))
        self.errors = list(errors)


@dataclass(frozen=True)
class Scored:
    score: float
    subscores: dict[str, float]
    band: str | None
    # The answers as stored: item id -> value (PSFS: its activities).
    answers: dict[str, Any]


@dataclass(frozen=True)
class Change:
    points: float
    percent: float | None
    meaningful: bool
    direction: Direction


def _round(value: float) -> float:
    return round(value + 0.0, DECIMALS)


def _activities(instrument: Instrument, answers: Mapping[str, Any]) -> Scored:
    scoring = instrument.scoring
    low, high = scoring.min_activities or 1, scoring.max_activities or 99
    errors: list[tuple[str, str, str]] = []
    extra = sorted(set(answers) - {"activities"})
    errors += [(f"answers.{k}", "not an item of this instrument", "unknown") for k in extra]
    given = answers.get("activities")
    if not isinstance(given, list) or not low <= len(given) <= high:
        errors.append(("answers.activities", f"give {low} to {high} activities", "out_of_range"))
        raise AnswerError(errors)
    values = {o.value for o in instrument.items[0].options}
    kept: list[dict[str, Any]] = []
    for n, entry in enumerate(given):
        where = f"answers.activities.{n}"
        if not isinstance(entry, Mapping) or set(entry) - {"activity", "score"}:
            errors.append((where, "each activity is {activity, score}", "not_allowed"))
            continue
        name, score = entry.get("activity"), entry.get("score")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
            errors.append((f"{where}.activity", "name the activity (1-200 characters)", "missing"))
        if isinstance(score, bool) or not isinstance(score, int) or score not in values:
            errors.append((f"{where}.score", "a whole number from 0 to 10", "out_of_range"))
        if isinstance(name, str) and isinstance(score, int):
            kept.append({"activity": name.strip(), "score": score})
    names = [k["activity"].casefold() for k in kept]
    if len(set(names)) != len(names):
        errors.append(("answers.activities", "each activity once", "duplicate"))
    if errors:
        raise AnswerError(errors)
    score = _round(sum(k["score"] for k in kept) / len(kept))
    return Scored(score, {}, _band(instrument, {"score": score}), {"activities": kept})


def score(instrument: Instrument, answers: Mapping[str, Any]) -> Scored:
    """Score one administration; AnswerError names every answer that cannot be scored."""
    if instrument.scoring.method == "activities_mean":
        return _activities(instrument, answers)
    scoring = instrument.scoring
    items = {i.id: i for i in instrument.items}
    errors = [
        (f"answers.{k}", "not an item of this instrument", "unknown")
        for k in sorted(set(answers) - set(items))
    ]
    chosen: dict[str, Option] = {}
    for item in instrument.items:
        value = answers.get(item.id)
        if value is None:
            if scoring.min_answered is None:
                errors.append((f"answers.{item.id}", "this item must be answered", "missing"))
            continue
        option = next(
            (o for o in item.options if not isinstance(value, bool) and value == o.value), None
        )
        if option is None or not isinstance(value, int):
            allowed = ", ".join(str(o.value) for o in item.options)
            errors.append((f"answers.{item.id}", f"one of {allowed}", "out_of_range"))
            continue
        chosen[item.id] = option
    if scoring.min_answered is not None and not errors and len(chosen) < scoring.min_answered:
        missing = [i.id for i in instrument.items if i.id not in chosen]
        errors += [
            (
                f"answers.{m}",
                f"at least {scoring.min_answered} of {len(items)} items must be answered",
                "missing",
            )
            for m in missing
        ]
    if errors:
        raise AnswerError(errors)
    total = sum(o.scores for o in chosen.values())
    if scoring.method == "mean":
        value = total / len(chosen)
    elif scoring.method == "percent_of_max":
        most = sum(max(o.scores for o in items[i].options) for i in chosen)
        value = total / most * 100
    else:
        value = total
    value = _round(value)
    subscores = {
        sub.id: _round(sum(chosen[i].scores for i in sub.items if i in chosen))
        for sub in scoring.subscales
    }
    stored = {i.id: chosen[i.id].value for i in instrument.items if i.id in chosen}
    return Scored(value, subscores, _band(instrument, {"score": value, **subscores}), stored)


def _band(instrument: Instrument, values: Mapping[str, float]) -> str | None:
    """The first band whose conditions all hold (bands are listed in order)."""
    for band in instrument.bands:
        if all(c.holds(values) for c in band.when):
            return band.band
    return None


def change(instrument: Instrument, first: float, now: float) -> Change | None:
    """The change from a first score, judged by the instrument's minimal important change
    (None: the instrument names none, so change is not what it measures)."""
    mic = instrument.minimal_important_change
    if mic is None:
        return None
    points = _round(now - first)
    percent = _round(points / first * 100) if first else None
    meaningful = abs(points) >= mic.points or (
        mic.percent is not None and percent is not None and abs(percent) >= mic.percent
    )
    if points == 0:
        direction: Direction = "unchanged"
    else:
        lower = points < 0
        direction = "improved" if lower == (instrument.better == "lower") else "worsened"
    return Change(points, percent, meaningful and points != 0, direction)
