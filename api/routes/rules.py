"""The rule table in force: what each rule reads, does and rests on (public)."""

from __future__ import annotations

from functools import cache
from typing import Annotated

from fastapi import APIRouter, Header, Response, status

from api.catalog_cache import Rendered, render
from api.preconditions import none_match
from api.schemas.rules import RulesetPublic
from api.services.ruleset import ruleset_public

router = APIRouter(tags=["pain and advice"])

# The table changes only with a release; clients may keep it a day and revalidate.
RULES_CACHE_CONTROL = "public, max-age=3600, stale-while-revalidate=86400"


@cache
def _rendered() -> Rendered:
    return render(ruleset_public())


@router.get(
    "/v1/rules",
    summary="The ruleset in force: every rule's trigger, action, thresholds and sources",
    description=(
        "The clinical rule table as data, so an app or a clinician can show why advice "
        "says what it says. Public and cacheable: send the `ETag` back in `If-None-Match` "
        "for a 304."
    ),
    response_model=RulesetPublic,
    responses={
        200: {
            "headers": {
                "ETag": {"description": "Version of the table", "schema": {"type": "string"}}
            }
        },
        304: {"description": "Your copy is current"},
    },
)
def get_rules(
    if_none_match: Annotated[str | None, Header(description="An ETag from an earlier read")] = None,
) -> Response:
    rendered = _rendered()
    headers = {"ETag": rendered.etag, "Cache-Control": RULES_CACHE_CONTROL}
    if none_match(if_none_match, rendered.etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(content=rendered.body, media_type="application/json", headers=headers)
