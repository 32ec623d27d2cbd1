"""The session builder: today's session from the routine, the catalog and the advice.

Pure and deterministic: the same inputs (including `seed`) give the same session.
A warm-up comes first (the article: 5-10 minutes of moderate cardio, then a
5-minute dynamic stretch), then strength work, then stretches to cool down. The
estimate is computed from each dose (tempo, holds, sides, rests) and never
exceeds the time budget: the lowest-priority items are dropped, never the warm-up.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from api.domain.types import Dose, SessionScope

# A controlled repetition: about 1.5 s up and 1.5 s down, plus any hold at the top.
TEMPO_SECONDS = 3
# Rest between sets: light bodyweight back work needs short rests.
REST_SECONDS = {"strength": 45, "stretch": 15}
# Getting into position for the next exercise.
TRANSITION_SECONDS = 30
# Switching sides on per-side exercises.
SIDE_SWITCH_SECONDS = 5
# The article: 5-10 minutes of moderate cardio, then a 5-minute dynamic stretch.
WARMUP_CARDIO_MINUTES = 5
WARMUP_STRETCH_MINUTES = 5
WARMUP_MINUTES = WARMUP_CARDIO_MINUTES + WARMUP_STRETCH_MINUTES
# "Gentle" stretches for a see-a-doctor session (catalog difficulty 1-5).
GENTLE_MAX_DIFFICULTY = 2
BLOCK_OF = {"warmup": "warmup", "strength": "main", "stretch": "cooldown"}
BLOCK_ORDER = {"warmup": 0, "main": 1, "cooldown": 2}


@dataclass(frozen=True)
class CatalogExercise:
    slug: str
    name: str
    category: str  # warmup, strength, stretch
    difficulty: int
    required_equipment: frozenset[str] = frozenset()
    primary_muscles: frozenset[str] = frozenset()
    secondary_muscles: frozenset[str] = frozenset()
    archived: bool = False


@dataclass(frozen=True)
class Request:
    minutes: int
    equipment: frozenset[str]
    focus: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()
    # A clinician's list of cleared exercises; None means every exercise.
    cleared: frozenset[str] | None = None
    # Ruled out by the person's screening answers (domain/screening.py), never built.
    screened_out: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Item:
    exercise_slug: str
    name: str
    block: str
    sets: int
    reps: int | None
    hold_seconds: int | None
    per_side: bool
    rest_seconds: int
    seconds: int

    @property
    def minutes(self) -> float:
        return round(self.seconds / 60, 1)


@dataclass(frozen=True)
class Note:
    """One thing a session's screen should say beside its items, by kind so an app can
    lay it out (an icon, the exercise's card) and with its sentence to show as is."""

    kind: str  # one of NOTE_KINDS
    text: str
    exercise_slug: str | None = None  # the exercise it is about, if one
    name: str | None = None


NOTE_KINDS = ("gentle_only", "stretches_only", "warmup_only", "no_warmup", "left_out_for_time")


@dataclass(frozen=True)
class Plan:
    items: tuple[Item, ...]
    seconds: int
    dropped: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    # The notes as items: one per exercise where a note names several.
    note_items: tuple[Note, ...] = field(default=())

    @property
    def estimated_minutes(self) -> float:
        # Rounded up, so the shown estimate never understates the session.
        return math.ceil(self.seconds / 6) / 10


class BuildError(ValueError):
    """The request cannot give a session; `field` names what to change."""

    def __init__(self, field: str, message: str, minimum_minutes: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.minimum_minutes = minimum_minutes


def item_seconds(category: str, dose: Dose) -> tuple[int, int]:
    """(seconds for the item, rest between sets) from the dose."""
    rest = REST_SECONDS.get(category, REST_SECONDS["strength"])
    sides = 2 if dose.per_side else 1
    per_rep = TEMPO_SECONDS + (dose.hold_seconds or 0)
    work = dose.sets * (dose.reps or 1) * sides * per_rep
    switches = dose.sets * SIDE_SWITCH_SECONDS if dose.per_side else 0
    return work + switches + (dose.sets - 1) * rest + TRANSITION_SECONDS, rest


def _warmup(catalog: Sequence[CatalogExercise]) -> Item:
    warm = next((c for c in catalog if c.category == "warmup" and not c.archived), None)
    return Item(
        exercise_slug=warm.slug if warm else "warm-up",
        name=warm.name if warm else "Warm-up",
        block="warmup",
        sets=1,
        reps=None,
        hold_seconds=None,
        per_side=False,
        rest_seconds=0,
        seconds=WARMUP_MINUTES * 60,
    )


def _tiebreak(seed: int, slug: str) -> str:
    # Deterministic variety: which equal-priority item goes first changes with the seed.
    return hashlib.sha256(f"{seed}:{slug}".encode()).hexdigest()


def _any_dosed(
    catalog: Sequence[CatalogExercise], doses: Mapping[str, Dose], stretches_only: bool
) -> bool:
    """Whether any exercise the advice allows has a dose in force (not left out)."""
    return any(
        c.category != "warmup"
        and not c.archived
        and (not stretches_only or c.category == "stretch")
        and (dose := doses.get(c.slug)) is not None
        and dose.sets > 0
        for c in catalog
    )


def _in_scope(c: CatalogExercise, scope: SessionScope) -> bool:
    """Whether the advice's session scope lets this (non-warm-up) exercise in."""
    if scope == "gentle":
        return c.category == "stretch" and c.difficulty <= GENTLE_MAX_DIFFICULTY
    if scope == "warmup_and_stretches":
        return c.category == "stretch"
    return True


def _warmup_only_note(
    catalog: Sequence[CatalogExercise], request: Request, stretches_only: bool
) -> str:
    others = {
        c.slug
        for c in catalog
        if c.category != "warmup"
        and not c.archived
        and (not stretches_only or c.category == "stretch")
    }
    screened = others & request.screened_out
    if screened == others:
        why = (
            "your screening answers leave out the other exercises until a linked "
            "clinician clears them"
        )
    elif screened:
        why = (
            "your screening answers leave out some exercises until a linked clinician clears "
            "them, and the others are left out for now (they come back after 2 sessions "
            "without pain trouble) or not cleared for you"
        )
    else:
        why = (
            "your exercises are left out for now and come back after 2 sessions without "
            "pain trouble"
        )
    return f"Only the warm-up today: {why}."


def build(
    catalog: Sequence[CatalogExercise],
    doses: Mapping[str, Dose],
    scope: SessionScope,
    request: Request,
    *,
    seed: int,
) -> Plan:
    """Build a session. `doses` already reflect the advice (the rule service applies
    progressions and regressions to the routine); `scope` (decisions.session_scope) says
    what the advice lets a session hold."""
    if scope == "none":
        raise BuildError("advice", "No session until a professional has seen you.")
    warm = _warmup(catalog)
    if warm.exercise_slug in request.exclude:
        raise BuildError("exclude", "The warm-up cannot be left out.")
    # Ruled out by the screen (a caution an admin gave it, or an answer that needs a
    # clinician's clearance of every exercise): sessions go without it.
    warm_allowed = warm.exercise_slug not in request.screened_out
    gentle_only = scope == "gentle"
    stretches_only = scope == "warmup_and_stretches"

    candidates: list[tuple[CatalogExercise, Dose]] = []
    notes: list[str] = []
    items_of_notes: list[Note] = []

    def note(kind: str, text: str) -> None:
        notes.append(text)
        items_of_notes.append(Note(kind, text))

    for c in sorted(catalog, key=lambda c: c.slug):
        if c.category == "warmup" or c.archived or c.slug in request.exclude:
            continue
        if c.slug in request.screened_out:
            continue
        if request.cleared is not None and c.slug not in request.cleared:
            continue
        if not c.required_equipment <= request.equipment:
            continue
        if not _in_scope(c, scope):
            continue
        if (
            request.focus
            and c.category == "strength"
            and not (request.focus & (c.primary_muscles | c.secondary_muscles))
        ):
            continue
        dose = doses.get(c.slug)
        if dose is None or dose.sets <= 0:
            continue  # not in the routine, or left out for now
        candidates.append((c, dose))
    if gentle_only:
        note("gentle_only", "Only gentle stretches until you have seen a doctor.")
    if stretches_only:
        note("stretches_only", "Only the warm-up and stretches until you have seen a doctor.")
    if not candidates and not gentle_only and not _any_dosed(catalog, doses, stretches_only):
        # Everything the advice allows is left out for now: the warm-up alone still
        # gets the person moving, and logging it counts toward bringing exercises back.
        if not warm_allowed:
            raise BuildError(
                "screening",
                "Nothing can be built today: your screening answers leave out the warm-up "
                "and the exercises you could do, until a linked clinician clears them.",
            )
        if warm.seconds > request.minutes * 60:
            raise BuildError(
                "minutes",
                f"{request.minutes} minutes is too short: the warm-up needs at least "
                f"{WARMUP_MINUTES} minutes.",
                minimum_minutes=WARMUP_MINUTES,
            )
        note("warmup_only", _warmup_only_note(catalog, request, stretches_only))
        return Plan(
            items=(warm,),
            seconds=warm.seconds,
            notes=tuple(notes),
            note_items=tuple(items_of_notes),
        )
    if not candidates:
        in_scope = {
            c.slug
            for c in catalog
            if c.category != "warmup" and not c.archived and _in_scope(c, scope)
        }
        if in_scope and in_scope <= request.screened_out and scope != "full":
            # Not the request's fault: nothing it could widen would give a session.
            raise BuildError(
                "screening",
                "No session today: until you have seen a doctor only "
                f"{'gentle stretches are' if gentle_only else 'stretches are'} built, and your "
                "screening answers leave those out until a linked clinician clears them.",
            )
        if request.screened_out & in_scope:
            raise BuildError(
                "screening",
                "No exercise fits this request: your screening answers leave some out until "
                "a linked clinician clears them; widen the equipment, focus or exclusions "
                "for the others.",
            )
        field_name = "focus" if request.focus else "equipment"
        raise BuildError(
            field_name,
            "No exercise fits this request (equipment, focus, exclusions and clearances); "
            "widen it.",
        )

    items = []
    for c, dose in candidates:
        seconds, rest = item_seconds(c.category, dose)
        items.append(
            Item(
                exercise_slug=c.slug,
                name=c.name,
                block=BLOCK_OF[c.category],
                sets=dose.sets,
                reps=dose.reps,
                hold_seconds=dose.hold_seconds,
                per_side=dose.per_side,
                rest_seconds=rest,
                seconds=seconds,
            )
        )

    budget = request.minutes * 60
    with_warmup = warm_allowed and not gentle_only
    fixed = warm.seconds if with_warmup else 0
    shortest = min(i.seconds for i in items)
    if fixed + shortest > budget:
        minimum = math.ceil((fixed + shortest) / 60)
        what = "the warm-up and one exercise" if with_warmup else "one exercise"
        if gentle_only:
            what = "one gentle stretch"
        raise BuildError(
            "minutes",
            f"{request.minutes} minutes is too short: {what} need at least {minimum} minutes.",
            minimum_minutes=minimum,
        )

    def priority(item: Item) -> tuple[int, int, str]:
        focus_hit = 0
        c = next(c for c, _ in candidates if c.slug == item.exercise_slug)
        if request.focus & c.primary_muscles:
            focus_hit = 2
        elif request.focus & c.secondary_muscles:
            focus_hit = 1
        # Higher first: focus, then strength before stretches, then a seeded order.
        return (-focus_hit, BLOCK_ORDER[item.block], _tiebreak(seed, item.exercise_slug))

    ranked = sorted(items, key=priority)
    kept: list[Item] = []
    dropped: list[str] = []
    used = fixed
    for item in ranked:
        if used + item.seconds <= budget:
            kept.append(item)
            used += item.seconds
        else:
            dropped.append(item.exercise_slug)
    ordered = sorted(kept, key=lambda i: (BLOCK_ORDER[i.block], i.exercise_slug))
    if with_warmup:
        ordered.insert(0, warm)
    elif not gentle_only:
        note(
            "no_warmup",
            "No warm-up today: your screening answers leave it out until a linked clinician "
            "clears it.",
        )
    if dropped:
        left_out = sorted((c.name, c.slug) for c, _ in candidates if c.slug in dropped)
        why = f"Left out to fit {request.minutes} minutes"
        notes.append(f"{why}: {', '.join(name for name, _ in left_out)}.")
        items_of_notes += [
            Note("left_out_for_time", f"{why}.", exercise_slug=slug, name=name)
            for name, slug in left_out
        ]
    return Plan(
        items=tuple(ordered),
        seconds=sum(i.seconds for i in ordered),
        dropped=tuple(sorted(dropped)),
        notes=tuple(notes),
        note_items=tuple(items_of_notes),
    )
