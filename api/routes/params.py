"""Query parameters shared by the routes: the page size and cursor of keyset pagination."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from api.pagination import MAX_LIMIT

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (1-100).")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` from the previous page.")
]
