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

_NUMBER = r"(?:\d+|a few|several)"
# "Repeat at least 5 to 10 times daily", "Repeat 10 times": the count, with its range.
_REPEAT = re.compile(
    rf"\b(?P<verb>[Rr]epeat)(?: at least)? {_NUMBER}(?: to \d+)? times(?: daily| a day)?"
)
# "Hold the position for 3 to 5 seconds", "Hold for a few seconds", "hold for 2 seconds".
_HOLD = re.compile(
    rf"\b(?P<verb>[Hh]old(?: the position| it| the stretch)?) for {_NUMBER}(?: to \d+)? "
    r"seconds?"
)
# What the rule service decides instead: more reps, another schedule.
_DO_MORE = re.compile(
    r"(?:;|,)\s*(?:the number can be increased over time|you can do more once your body is "
    r"used to it|or \d+ to \d+ times twice a day)",
    re.IGNORECASE,
)


def _times(reps: int) -> str:
    return "once" if reps == 1 else f"{reps} times"


def personal_steps(
    steps: Sequence[str], reps: int | None, hold_seconds: int | None, sets: int
) -> list[str]:
    """`steps` with their counts and holds replaced by this dose, and a last step for the
    sets when there are several (the article names one)."""
    times = _times(reps) if reps is not None else None
    held = None
    if hold_seconds is not None:
        held = "1 second" if hold_seconds == 1 else f"{hold_seconds} seconds"
    out = []
    for step in steps:
        text = _DO_MORE.sub("", step)
        if times is not None:
            text = _REPEAT.sub(lambda m: f"{m['verb']} {times}", text)
        if held is not None:
            text = _HOLD.sub(lambda m: f"{m['verb']} for {held}", text)
        out.append(text)
    if sets > 1:
        out.append(f"Do {sets} sets, resting between them.")
    return out
