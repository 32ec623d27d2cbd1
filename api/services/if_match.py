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


def check_if_match(
    if_match: IfMatch | None, etag: str, *, required: bool, what: str = "exercise"
) -> None:
    """Refuse a write whose If-Match is missing (when required) or names another version;
    `what` is the thing written, as the messages name it ("exercise", "session log")."""
    if if_match is None:
        if required:
            raise PreconditionRequired(
                f"Send If-Match with the {what}'s current ETag (from GET), so an edit "
                "never silently overwrites another."
            )
        return
    if if_match.matches(etag):
        return
    raise PreconditionFailed(
        f"The {what} changed since you read it (ETag mismatch): GET it again, re-apply "
        "your edit and retry.",
        extra={"current_etag": etag},
    )
