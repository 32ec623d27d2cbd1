"""Shapes shared by every area of the API."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.errors import FIELD_CODES
from api.schemas.types import Timestamp, whole_number

NUL_MESSAGE = "must not contain NUL (U+0000) characters"
# The description of every list's `next_cursor`.
NEXT_CURSOR = "Pass back as `cursor` for the next page; null on the last page."


class Input(BaseModel):
    """Base of every request body: an unknown field is refused (422 naming it), so a
    misspelt field is never silently dropped and nobody can set `role`, `user_id` or
    any other field the API does not take by adding it to a body. Strict: a value of
    the wrong JSON type ("3" for 3, 1 for true) is refused as the document says, not
    coerced; date-times, ids and dates opt back in to parsing their text forms
    (`api.schemas.types`)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        # PostgreSQL cannot store U+0000 in text, and no client means to send one.
        if (isinstance(value, str) and "\x00" in value) or (
            isinstance(value, list) and any(isinstance(v, str) and "\x00" in v for v in value)
        ):
            raise ValueError(NUL_MESSAGE)
        return value

    @model_validator(mode="before")
    @classmethod
    def _integral_numbers_are_integers(cls, data: Any) -> Any:
        # JSON has one number type: 3.0 is the integer 3 (JSON Schema says so too), while
        # strict validation would refuse it for an integer field.
        if isinstance(data, dict):
            return {k: _integral(v) for k, v in data.items()}
        return data


def schema_without_null(*names: str) -> Callable[[dict[str, Any]], None]:
    """`json_schema_extra` for a patch whose fields may be left out but not set to null."""

    def edit(schema: dict[str, Any]) -> None:
        for name in names:
            prop = schema["properties"][name]
            options = [o for o in prop.pop("anyOf", []) if o.get("type") != "null"]
            if options:
                prop.update(options[0])
            prop.pop("default", None)

    return edit


def refuse_null(value: Any) -> Any:
    """A field validator for those fields: the None default only means "not sent"."""
    if value is None:
        raise ValueError("may not be null; leave the field out to keep its value")
    return value


def _integral(value: Any) -> Any:
    if isinstance(value, list):
        return [whole_number(v) for v in value]
    return whole_number(value)


class FieldProblem(BaseModel):
    field: str = Field(examples=["pain"], description="Dotted path of the offending field.")
    in_: Literal["body", "query", "path", "header"] = Field(
        alias="in", examples=["body"], description="Where the field was sent"
    )
    code: str = Field(
        examples=["less_than_equal"],
        description="Why, for apps to branch on (the message is English text and may be "
        "reworded). A field that does not parse gets pydantic's error type (`missing`, "
        "`less_than_equal`, `string_too_long`, `json_invalid`, ... see "
        "https://docs.pydantic.dev/latest/errors/validation_errors/); one that parses but "
        "breaks a rule gets one of: "
        + "; ".join(f"`{code}` ({meaning})" for code, meaning in FIELD_CODES.items()),
    )
    message: str = Field(
        examples=["Input should be less than or equal to 10"],
        description="What is wrong, in English, for people; may be reworded (branch on `code`).",
    )


class Problem(BaseModel):
    """RFC 9457 problem details; `type` is stable, match on it."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(
        examples=["/problems/validation-error"],
        description="Stable error kind (`/problems/<slug>`): match on it; GET it for what it "
        "means.",
    )
    title: str = Field(
        examples=["Unprocessable Content"], description="The HTTP status's phrase, for people."
    )
    status: int = Field(examples=[422], description="The HTTP status code of the response.")
    detail: str = Field(
        examples=["Invalid request: pain"],
        description="What went wrong this time, in English, for people.",
    )
    errors: list[FieldProblem] | None = Field(
        default=None,
        description="Only with `/problems/validation-error` (422): one entry per offending "
        "field; left out otherwise.",
    )
    instance: str | None = Field(
        default=None,
        examples=["urn:request:9f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f"],
        description="This occurrence: the request's id (`X-Request-ID`), to quote when "
        "reporting it.",
    )
    current_etag: str | None = Field(
        default=None,
        description="Only with `/problems/precondition-failed` (412): the ETag the resource "
        "has now; GET it, re-apply the edit, send this as If-Match.",
    )
    minimum_minutes: int | None = Field(
        default=None,
        description="Only when a session's `minutes` is too short (422): the least that fits.",
    )
    retry_after: int | None = Field(
        default=None,
        description="Only with a 429: seconds until a try may succeed (as `Retry-After`).",
    )


class Health(BaseModel):
    status: str = Field(examples=["ok"], description="Always `ok`: the process answers.")


class Readiness(BaseModel):
    status: str = Field(
        examples=["ready"], description="`ready`; when not ready the answer is a 503 problem."
    )
    database: str = Field(examples=["ok"], description="`ok`: the database answered a query.")
    migrations: str = Field(
        examples=["at head"], description="`at head`: the schema is at the latest migration."
    )


class ProblemType(BaseModel):
    type: str = Field(description="The problem type, as a Problem's `type` gives it.")
    description: str = Field(description="What the error means and what to do about it.")


class Removed(BaseModel):
    """An item removed from a list since the `since` a client asked with (a tombstone)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(
        validation_alias="item_id", description="The id the item had in the list."
    )
    deleted_at: Timestamp = Field(description="When it was removed.")
