"""Optimistic concurrency: a write names the version it read, or is refused.

The HTTP layer parses the `If-Match` header (api/preconditions.py); services get an
`IfMatch` (or None when the header was absent) and compare it with the ETag of what
is stored now.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.errors import PreconditionFailed, PreconditionRequired


@dataclass(frozen=True)
class IfMatch:
    """The entity tags an `If-Match` header names; `*` matches any current version."""

    tags: tuple[str, ...]

    def matches(self, etag: str) -> bool:
        """Strong comparison (RFC 9110 13.1.1): weak tags never match."""
        return "*" in self.tags or etag in self.tags


def check_if_match(if_match: IfMatch | None, etag: str, *, required: bool) -> None:
    """Refuse a write whose If-Match is missing (when required) or names another version."""
    if if_match is None:
        if required:
            raise PreconditionRequired(
                "Send If-Match with the exercise's current ETag (from GET), so an edit "
                "never silently overwrites someone else's."
            )
        return
    if if_match.matches(etag):
        return
    raise PreconditionFailed(
        "The exercise changed since you read it (ETag mismatch): GET it again, re-apply "
        "your edit and retry.",
        extra={"current_etag": etag},
    )
