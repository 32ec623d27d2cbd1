"""Field types shared by request models, stricter than pydantic's lax defaults.

The OpenAPI document promises "a date-time string" and "an email address"; these types
accept exactly that, so what the document says and what the server takes agree.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    PlainSerializer,
    Strict,
    StringConstraints,
    WithJsonSchema,
)

from api.domain.evidence import iso

# A date, a time and nothing looser: pydantic alone would also take 1700000000 or "0.5"
# as seconds since 1970, which no client means and the schema does not allow.
_ISO_8601 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
EMAIL_MAX = 254  # RFC 5321's limit on a forward path, which email-validator enforces


def _iso_text_only(value: object) -> object:
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_8601.match(value)):
        return value
    raise ValueError("expected an ISO 8601 date-time with offset, e.g. 2026-11-24T08:30:00+01:00")


def _email(value: str) -> str:
    try:
        # We never send mail, so deliverability is not checked; RFC 6761's reserved
        # domains (.test, .local, .arpa ...) are still refused, as no one's address.
        checked = validate_email(value, check_deliverability=False, globally_deliverable=False)
    except EmailNotValidError as exc:
        raise ValueError(f"value is not a valid email address: {exc}") from None
    return checked.normalized


# Request models are strict (no "3" for 3, no true for 1); these come as JSON strings, so
# each parses its own text form.
def whole_number(value: object) -> object:
    # JSON has one number type: 70.0 is the integer 70, as JSON Schema also says.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Far wider than any time a person records, and narrow enough that a date-time moved to
# UTC stays a date-time: 0001-01-01T00:00:00+14:00 is before year 1 in UTC, and
# converting it raised OverflowError (a 500) in the services.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _in_range(value: datetime) -> datetime:
    # Compared, never converted: a comparison of aware date-times cannot overflow.
    if not EARLIEST <= value < LATEST:
        raise ValueError("must be from 1900-01-01 to 2199-12-31 (UTC)")
    return value


WholeNumber = Annotated[int, BeforeValidator(whole_number)]
Instant = Annotated[
    AwareDatetime, Strict(False), BeforeValidator(_iso_text_only), AfterValidator(_in_range)
]
Uuid = Annotated[uuid.UUID, Strict(False)]
# Every moment the API answers with: UTC, `Z`, six fractional digits, whatever offset it
# came in with or the database gave back (Swift's ISO8601DateFormatter, for one, reads a
# single form per formatter).
Timestamp = Annotated[
    datetime,
    PlainSerializer(iso, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "examples": ["2026-11-24T07:30:00.000000Z"],
        }
    ),
]
Day = Annotated[date, Strict(False)]


def pair_of(items: dict[str, object]) -> WithJsonSchema:
    """A two-item array described as `items` plus a length, not `prefixItems`: client
    generators and Schemathesis' response validator mishandle `prefixItems` (it failed
    on every thresholds answer once the fuzzer reached a real patient, issue 18)."""
    return WithJsonSchema({"type": "array", "items": items, "minItems": 2, "maxItems": 2})


# (low, high), as `[low, high]`.
Range = Annotated[tuple[float, float], pair_of({"type": "number"})]
# (time, beats per minute), as `["2026-01-01T08:00:00Z", 92]`.
TimedBeat = Annotated[
    tuple[Timestamp, int],
    pair_of({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "integer"}]}),
]

Email = Annotated[
    str,
    Field(max_length=EMAIL_MAX, json_schema_extra={"format": "email"}),
    AfterValidator(_email),
]

# Text with no U+0000, which PostgreSQL cannot store (ECMA and Python regex alike).
NO_NUL = r"^[^\x00]*$"
# For text that is trimmed before use: the schema's minLength alone would let "   " by.
# Not \S: what JavaScript's \s, Python's str.strip and pydantic-core's trim (Rust,
# Unicode White_Space) count as blank differ (U+0085 is blank to the last two, not to
# JavaScript), so "\x85" passed the document and was refused once trimmed. A character
# none of them counts as blank, in \uXXXX escapes that ECMA, Python and Rust regexes read
# alike.
NOT_BLANK = (
    r"[^\u0009-\u000d\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    r"\ufeff\u001c-\u001f\u0085]"
)


def trimmed(max_length: int) -> StringConstraints:
    """Text trimmed of surrounding blanks, with something left."""
    return StringConstraints(
        strip_whitespace=True, min_length=1, max_length=max_length, pattern=NOT_BLANK
    )
