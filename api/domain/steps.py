"""An exercise's steps as one person should follow them: the catalog's text (the source
article's) with the dose it names replaced by the person's.

The article says "Repeat 5 to 10 times daily" and "Hold for 10 to 15 seconds"; a person
whose exercise was eased back to 3 reps must not read 10 there (principle 3: every action
takes effect, and a regress the text contradicts has not). Sentences that name no dose
are kept word for word; an invitation to do more ("the number can be increased over
time") is dropped, since the rule service decides when to step up.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

_NUMBER = r"(?:\d+|a few|several)"
_RANGE = r"(?:\s*(?:to|-|\u2013)\s*\d+)?"
# "Repeat at least 5 to 10 times daily", "Repeat 10 times": the count, with its range;
# not "3 times a day" (how often, which the article's schedule says, not a rep count).
_REPEAT = re.compile(
    rf"\b(?P<verb>[Rr]epeat)(?: at least)? {_NUMBER}{_RANGE} times"
    r"(?! a day| per day| twice| each day)"
)
# "Hold the position for 3 to 5 seconds", "Hold for a few seconds"; not an open end ("or
# longer", "to 1 minute"), which is left for the check below.
_HOLD = re.compile(
    rf"\b(?P<verb>[Hh]old(?: the position| this position| it| the stretch)?) for "
    rf"{_NUMBER}{_RANGE} seconds?(?! or longer| to \d)"
)
# What the rule service decides instead: more reps, another schedule.
_DO_MORE = re.compile(
    r"(?:;|,)\s*(?:the number can be increased[^.;]*|you can (?:do more|increase)[^.;]*"
    r"|or \d+ to \d+ times twice a day)",
    re.IGNORECASE,
)
# Any count or time the text still names after the dose went in: if it is not the dose's,
# the step would contradict the dose, and is left out (a dose step takes its place).
# Counts are checked when the dose has reps, times when it has a hold.
_COUNT_LIKE = re.compile(
    rf"\b(?:up to )?{_NUMBER}{_RANGE}\s*(?:times|reps|repetitions)\b", re.IGNORECASE
)
_TIME_LIKE = re.compile(
    rf"\b(?:up to )?{_NUMBER}{_RANGE}\s*(?:seconds?|secs?|minutes?)\b|\bor longer\b",
    re.IGNORECASE,
)
# A breath held is not the exercise's hold.
_BREATH = re.compile(r"\bbreath", re.IGNORECASE)


def _times(reps: int) -> str:
    return "once" if reps == 1 else f"{reps} times"


def personal_steps(
    steps: Sequence[str], reps: int | None, hold_seconds: int | None, sets: int
) -> list[str]:
    """`steps` with their counts and holds replaced by this dose, and a last step for the
    sets when there are several (the article names one)."""
    return list(_personal(tuple(steps), reps, hold_seconds, sets))


# Every routine read fills every exercise's steps; the same few doses come back.
@lru_cache(maxsize=4096)
def _personal(
    steps: tuple[str, ...], reps: int | None, hold_seconds: int | None, sets: int
) -> tuple[str, ...]:
    times = _times(reps) if reps is not None else None
    held = None
    if hold_seconds is not None:
        held = "1 second" if hold_seconds == 1 else f"{hold_seconds} seconds"
    ours = {x for x in (times, held) if x is not None}
    out = []
    dropped = False
    for step in steps:
        text = _DO_MORE.sub("", step)
        breathing = bool(_BREATH.search(text))
        if times is not None:
            text = _REPEAT.sub(lambda m: f"{m['verb']} {times}", text)
        if held is not None and not breathing:
            text = _HOLD.sub(lambda m: f"{m['verb']} for {held}", text)
        named = set()
        if times is not None:
            named |= {m.group(0) for m in _COUNT_LIKE.finditer(text)}
        if held is not None:
            named |= {m.group(0) for m in _TIME_LIKE.finditer(text)}
        if not breathing and named - ours:
            dropped = True  # it names a count or time that is not this dose
            continue
        out.append(text)
    if dropped:
        out.append(_dose_step(reps, held))
    if sets > 1:
        out.append(f"Do {sets} sets, resting between them.")
    return tuple(out)


def _dose_step(reps: int | None, held: str | None) -> str:
    parts = []
    if reps is not None:
        parts.append(f"Do {reps} {'rep' if reps == 1 else 'reps'}")
    if held is not None:
        parts.append(f"holding each for {held}" if parts else f"Hold for {held}")
    return (", ".join(parts) or "Do it at the dose shown") + "."
