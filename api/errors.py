"""Typed errors raised by services: framework-free, so services and the domain stay so.

Every error response is ``application/problem+json`` (RFC 9457) with a stable
``type``: ``/problems/<slug>``. Clients match on that slug, never on ``title``
or ``detail`` text, which may be reworded. Turning these errors into HTTP responses
(headers included) is the job of ``api.problems``; nothing here knows about HTTP
frameworks or the database driver.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

PROBLEM_TYPE_PREFIX = "/problems/"

# slug -> what it means; served at /problems/<slug> so every `type` resolves.
PROBLEM_TYPES: dict[str, str] = {
    "validation-error": "The request was understood but a field is missing or invalid; "
    "`errors` names each field.",
    "bad-request": "The request is malformed (for example a required header is missing).",
    "unauthorized": "No valid credentials were sent; authenticate and retry.",
    "invalid-credentials": "Wrong email or password (which of the two is not said); sign "
    "in again with the right ones.",
    "device-token-not-allowed": "A device token only uploads and imports wearable data "
    "(`POST /v1/wearable/uploads`, `/v1/wearable/imports/...`); this route needs the "
    "person's access token.",
    "forbidden": "The credentials are valid but do not allow this action.",
    "not-found": "No such resource, or it is not yours.",
    "method-not-allowed": "The resource exists but does not support this method.",
    "conflict": "The request conflicts with the current state of the resource.",
    "idempotency-key-reused": "This Idempotency-Key was used for a different request "
    "body; send new data with a new key (a retry sends the same body with the same key).",
    "client-id-reused": "The client-generated id is already used by something else (or its "
    "token can no longer be shown): generate a new id for new data.",
    "exercise-blocked": "No exercise session while the advice is to get urgent care, or to "
    "see a doctor today about a possible infection or fracture, until an assessment is "
    "recorded; `advice` says what to do.",
    "screening-required": "No session is built before the screening is answered: "
    "`PUT /v1/me/screening`, then try again.",
    "clinician-clearance-required": "An answer rules out every exercise until a linked "
    "clinician clears some (spinal surgery in the last 12 months, or under 16): link your "
    "clinician (`POST /v1/me/clinicians`) and ask them to clear your exercises; `gates` "
    "names the answers.",
    "precondition-failed": "If-Match did not match the current version: reload and retry.",
    "precondition-required": "This write needs an If-Match header with the current ETag.",
    "payload-too-large": "The request body is larger than allowed.",
    "request-timeout": "The request body did not arrive in time; nothing was done. Send it "
    "again (the same ids and Idempotency-Key make that safe).",
    "unsupported-media-type": "The body's content type or encoding is not supported.",
    "too-many-requests": "Too many attempts; wait for Retry-After seconds.",
    "not-ready": "The service is up but cannot serve yet (database or migrations).",
    "database-unavailable": "The database cannot be reached or has no free connection right "
    "now; retry after Retry-After seconds with the same ids and Idempotency-Key (retries are "
    "safe).",
    "database-timeout": "A database statement ran past its time limit (the database is "
    "overloaded, or the request is unusually costly); retry after Retry-After seconds.",
    "busy": "The server is at capacity: the request waited too long for its turn (or for a "
    "password check); nothing was done. Retry after Retry-After seconds.",
    "internal-error": "An unexpected error; it has been logged.",
    "http-error": "An HTTP error without a more specific type.",
}


def problem_type(slug: str) -> str:
    return PROBLEM_TYPE_PREFIX + slug


class AppError(Exception):
    """Base of every error a service may raise on purpose.

    It says what went wrong, not how to send it: ``retry_after`` (seconds until a retry
    may succeed) and ``challenge`` (the scheme to authenticate with) are turned into
    ``Retry-After`` and ``WWW-Authenticate`` by the HTTP layer (``api.problems``).
    ``extra`` holds members added to the problem document.
    """

    status: int = 500
    slug: str = "internal-error"
    challenge: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        retry_after: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after
        self.extra = dict(extra or {})


class BadRequest(AppError):
    status, slug = 400, "bad-request"


class Unauthorized(AppError):
    status, slug = 401, "unauthorized"
    # Every credential this API takes (access token, device token) is a bearer token.
    challenge = "Bearer"

    def __init__(self, detail: str = "Not authenticated", **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)


class InvalidCredentials(Unauthorized):
    slug = "invalid-credentials"


class DeviceTokenNotAllowed(Unauthorized):
    slug = "device-token-not-allowed"


class Forbidden(AppError):
    status, slug = 403, "forbidden"


class NotFound(AppError):
    status, slug = 404, "not-found"


class Conflict(AppError):
    status, slug = 409, "conflict"


class ClientIdReused(Conflict):
    slug = "client-id-reused"


class ExerciseBlocked(AppError):
    status, slug = 409, "exercise-blocked"


class ScreeningRequired(AppError):
    status, slug = 409, "screening-required"


class ClinicianClearanceRequired(AppError):
    status, slug = 409, "clinician-clearance-required"


class PreconditionFailed(AppError):
    status, slug = 412, "precondition-failed"


class PreconditionRequired(AppError):
    status, slug = 428, "precondition-required"


class PayloadTooLarge(AppError):
    status, slug = 413, "payload-too-large"


class UnsupportedMediaType(AppError):
    status, slug = 415, "unsupported-media-type"


class TooManyRequests(AppError):
    status, slug = 429, "too-many-requests"


class NotReady(AppError):
    status, slug = 503, "not-ready"


# The `code` of a field error a rule of ours raises (request validation uses pydantic's
# error types: `missing`, `less_than_equal`, ...). Stable: apps branch on them.
FIELD_CODES: dict[str, str] = {
    "unknown": "names something that does not exist, or is not yours",
    "in_future": "a time further ahead of the server's clock than devices drift (5 minutes)",
    "order": "an end before its start",
    "too_long": "a duration, or a text, longer than allowed",
    "too_many": "more items than allowed",
    "duplicate": "listed more than once",
    "conflict": "contradicts another field, the path or what is stored",
    "required": "needed because of another answer",
    "not_allowed": "given where it must not be",
    "out_of_range": "a value outside what is allowed for it",
    "invalid_cursor": "not a cursor this API returned",
    "invalid_code": "an invitation code that is unknown, used, expired or no longer valid",
    "unavailable": "no exercise fits what was asked; widen it",
}

# (field, message, code): code one of FIELD_CODES, or a pydantic error type.
FieldIssue = tuple[str, str, str]


class FieldError(AppError):
    """Input that parsed but breaks a rule, reported per field like request validation:
    each error names the field, where it was sent (`in`), a stable `code` and a message."""

    status, slug = 422, "validation-error"

    def __init__(
        self, errors: Sequence[FieldIssue], detail: str | None = None, *, where: str = "body"
    ) -> None:
        fields = ", ".join(field for field, _, _ in errors)
        super().__init__(detail or f"Invalid field(s): {fields}")
        self.errors = [
            {"field": field, "in": where, "code": code, "message": message}
            for field, message, code in errors
        ]
        self.extra["errors"] = self.errors
