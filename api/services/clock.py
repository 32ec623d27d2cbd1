"""Device clocks: how far ahead of ours a client's time may be, and the one check of it."""

from __future__ import annotations

from datetime import datetime, timedelta

# Phones' and watches' clocks drift; a time a little in the future is still accepted.
CLOCK_SKEW = timedelta(minutes=5)
FUTURE_MESSAGE = "is in the future; check the device's clock"


def future_error(field: str, value: datetime, now: datetime) -> list[tuple[str, str, str]]:
    """A field error when `value` is further ahead of `now` than clocks drift."""
    return [(field, FUTURE_MESSAGE, "in_future")] if value > now + CLOCK_SKEW else []


def latest_accepted(now: datetime) -> datetime:
    """The latest time a reading may carry and still count as already happened."""
    return now + CLOCK_SKEW
