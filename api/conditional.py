"""ETags and 304s on the personal reads an app caches (`/v1/me`, `/v1/advice`,
`/v1/routine`, `GET /v1/sessions/{id}`), issue 17.

The tag is a digest of the answer as the client reads it, so it changes exactly when
something shown changes. What changes with every read and means nothing new (the
advice's `evaluated_at`, and a next check-in due "now") is left out of it: a 304
then tells the app that what it holds still stands. Personal answers stay `no-store`
(api/middleware.py): the app keeps its own copy and revalidates it, no shared cache does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.preconditions import none_match

IF_NONE_MATCH_DOC = "Send the ETag of your copy in If-None-Match: 304 while it still stands."
ETAG_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            "ETag": {
                "description": "This answer's version; send it in If-None-Match to revalidate",
                "schema": {"type": "string"},
            }
        }
    },
    304: {"description": "Not modified: your copy (its ETag in If-None-Match) still stands"},
}


def advice_as_tagged(advice: dict[str, Any]) -> dict[str, Any]:
    """An advice answer without what only says when it was read: `evaluated_at`, and a
    next check-in due "now" (no check-in yet, or overdue), which is stamped with it."""
    tagged = {k: v for k, v in advice.items() if k != "evaluated_at"}
    due, read = advice.get("next_checkin_due_at"), advice.get("evaluated_at")
    # Exactly the read's moment, as api/domain/horizon.py advice_at stamps it; a due time
    # in the past that a write moved is a change.
    if due and read and datetime.fromisoformat(due) == datetime.fromisoformat(read):
        tagged["next_checkin_due_at"] = "due"
    return tagged


def etag_of(shown: Any) -> str:
    raw = json.dumps(shown, sort_keys=True, separators=(",", ":")).encode()
    return f'"{hashlib.sha256(raw).hexdigest()[:32]}"'


def conditional(
    request: Request,
    body: BaseModel,
    tagged: Callable[[dict[str, Any]], Any] | None = None,
) -> Response:
    """`body` with its ETag, or a 304 when the client's copy carries that ETag. The tag
    is of `tagged(body as JSON)` when given: the answer without what changes on every
    read."""
    shown = body.model_dump(mode="json")
    tag = etag_of(tagged(shown) if tagged else shown)
    if none_match(request.headers.get("if-none-match"), tag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": tag})
    # Sent as dumped here: FastAPI would serialize the model a second time.
    return JSONResponse(shown, headers={"ETag": tag})
