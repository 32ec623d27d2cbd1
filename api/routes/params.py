"""Query parameters shared by the routes: the page size and cursor of keyset pagination,
and `since` for delta sync."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from api.pagination import MAX_LIMIT
from api.schemas.types import Instant

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (1-100).")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` from the previous page.")
]
Since = Annotated[
    Instant | None,
    Query(
        description="Delta sync: only what changed at or after this moment (an ISO 8601 "
        "date-time with an offset), oldest change first, and (where a list has it) what was "
        "removed since in `deleted`. Pass the server's time when your previous sync began, "
        "less a minute: the `Date` header of its first response, not the device's clock, "
        "and the minute covers writes stamped when their request began and committed "
        "moments later. An item seen twice is applied twice, harmlessly."
    ),
]
SINCE_DOC = (
    "Without `since`, the list as it is now. With `since`, a delta: `items` changed at or "
    "after it and `deleted` (the ids removed since: tombstones, kept as long as the "
    "account), merged oldest first under one cursor, so applying each page in order "
    "leaves a cached copy equal to the list."
)
