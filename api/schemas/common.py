"""Shapes shared by every area of the API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Input(BaseModel):
    """Base of every request body: an unknown field is refused (422 naming it), so a
    misspelt field is never silently dropped and nobody can set `role`, `user_id` or
    any other field the API does not take by adding it to a body."""

    model_config = ConfigDict(extra="forbid")


class FieldProblem(BaseModel):
    field: str = Field(examples=["pain"], description="Dotted path of the offending field.")
    message: str = Field(examples=["Input should be less than or equal to 10"])
    in_: str | None = Field(
        default=None, alias="in", examples=["body"], description="body, query, path or header"
    )


class Problem(BaseModel):
    """RFC 9457 problem details; `type` is stable, match on it."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["/problems/validation-error"])
    title: str = Field(examples=["Unprocessable Content"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["Invalid request: pain"])
    errors: list[FieldProblem] | None = None


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    status: str = Field(examples=["ready"])
    database: str = Field(examples=["ok"])
    migrations: str = Field(examples=["at head"])


class ProblemType(BaseModel):
    type: str
    description: str
