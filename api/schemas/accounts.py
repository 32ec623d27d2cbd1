"""Request and response shapes for accounts, tokens and devices."""

from __future__ import annotations

import uuid
from datetime import date
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
)

from api.schemas.catalog import Slug
from api.schemas.clinicians import (
    AlertKind,
    ClinicianActionName,
    ClinicianActionPublic,
    LinkPublic,
    PlanPublic,
    action_details,
)
from api.schemas.common import Input, Removed, refuse_null, schema_without_null
from api.schemas.pain import CheckInPublic, StoredAdvice
from api.schemas.screening import ScreeningPublic
from api.schemas.training import SessionPublic
from api.schemas.types import Email, TimedBeat, Timestamp, Uuid, trimmed
from api.schemas.wearable import UploadPublic

# NIST SP 800-63B: at least 8 characters; a cap keeps hashing cost bounded.
PASSWORD_MIN = 8
PASSWORD_MAX = 128
SESSION_MINUTES_MIN = 5
SESSION_MINUTES_MAX = 180
# Heart-rate zones from age make no sense for younger children.
MIN_AGE_YEARS = 5

Role = Literal["user", "clinician", "admin"]
Password = Annotated[SecretStr, Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]
DisplayName = Annotated[str, trimmed(80)]


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _known_zone(value: str) -> str:
    if value != "UTC" and value not in _zones():
        raise ValueError("not an IANA time zone name (for example Europe/London)")
    return value


TimeZoneName = Annotated[str, Field(max_length=64), AfterValidator(_known_zone)]


class RegisterIn(Input):
    email: Email = Field(examples=["sam@example.com"])
    password: Password = Field(examples=["correct horse battery staple"])
    display_name: DisplayName | None = Field(default=None, examples=["Sam"])


class RegistrationAccepted(BaseModel):
    """The same for an address that had no account (it has one now) and for one that
    had: the answer must not tell which (a back-pain app's accounts are health data)."""

    email: str = Field(
        description="The address as stored (trimmed, lower-cased): sign in with it",
        examples=["sam@example.com"],
    )
    detail: str = Field(description="What happens next, for people")


class UserPublic(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str | None
    role: Role
    equipment: list[str]
    session_minutes: int
    timezone: str
    birth_year: int | None
    created_at: Timestamp
    updated_at: Timestamp


# Always set, so null cannot clear them: leave the field out to keep its value.
_NOT_NULLABLE = ("equipment", "session_minutes", "timezone")


class ProfilePatch(Input):
    model_config = ConfigDict(json_schema_extra=schema_without_null(*_NOT_NULLABLE))

    display_name: DisplayName | None = Field(default=None, examples=["Sam"])
    equipment: list[Slug] | None = Field(
        default=None, max_length=20, examples=[["mat", "resistance-band"]]
    )
    session_minutes: int | None = Field(
        default=None, ge=SESSION_MINUTES_MIN, le=SESSION_MINUTES_MAX, examples=[20]
    )
    timezone: TimeZoneName | None = Field(default=None, examples=["Europe/London"])
    birth_year: int | None = Field(
        default=None,
        ge=1900,
        # The service checks "at least 5 years ago" against its clock; the document gives
        # the same bound as of when the server started.
        le=date.today().year - MIN_AGE_YEARS,
        examples=[1980],
        description="For age-predicted heart-rate zones, and for the screening (under 16, "
        "exercises need a linked clinician's clearance); null clears it until the screening "
        "is answered, and not after.",
    )

    _not_null = field_validator(*_NOT_NULLABLE)(refuse_null)


class TokenPair(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str


class RefreshIn(Input):
    refresh_token: str = Field(min_length=1, max_length=200)


class DeleteAccountIn(Input):
    password: SecretStr = Field(max_length=PASSWORD_MAX, examples=["correct horse battery staple"])


class DeviceCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": "0b6f7c1e-3f2a-4c55-9d7e-2a41c6f0b8d3", "name": "Sam's watch"}]
        }
    )

    id: Uuid | None = Field(
        default=None,
        description="Client-generated, so a retry after a lost response is not a second "
        "device: the same id and name again returns the same device and token (200); the "
        "id with another name is a 409.",
    )
    name: DisplayName = Field(examples=["Sam's watch"])


class DevicePublic(BaseModel):
    id: uuid.UUID
    name: str
    token_prefix: str = Field(description="The token's first characters, for recognition.")
    created_at: Timestamp
    last_used_at: Timestamp | None = Field(
        description="When it last uploaded, to within 5 minutes; null until its first upload."
    )
    updated_at: Timestamp = Field(
        description="When anything shown here last changed (registered, last used): the "
        "time `GET /v1/me/devices?since=` filters on."
    )


class DeviceCreated(DevicePublic):
    token: str = Field(description="Shown once: store it on the device now.")


class DevicePage(BaseModel):
    items: list[DevicePublic] = Field(
        description="Without `since`: every device, oldest first. With `since`: those "
        "registered or used at or after it, oldest change first."
    )
    deleted: list[Removed] = Field(
        default_factory=list,
        description="With `since` only: devices revoked at or after it (drop them from a "
        "cached list). Always empty without `since`.",
    )
    next_cursor: str | None


class SignInPublic(BaseModel):
    """A refresh-token session, as shown in the data export (never the token)."""

    family_id: uuid.UUID
    created_at: Timestamp
    expires_at: Timestamp
    used_at: Timestamp | None
    revoked_at: Timestamp | None
    address: str | None = Field(description="The client address it was issued to")


class RoutineExport(BaseModel):
    exercise_slug: str
    sets: int
    reps: int | None
    hold_seconds: int | None
    per_side: bool
    active: bool
    created_at: Timestamp
    updated_at: Timestamp


class DoseExport(BaseModel):
    exercise_slug: str
    sets: int
    reps: int | None
    hold_seconds: int | None
    per_side: bool


class DoseChangeExport(BaseModel):
    at: Timestamp
    rule_id: str
    source: str
    exercise_slug: str
    to_exercise_slug: str
    from_dose: DoseExport
    to_dose: DoseExport


class RepEventExport(BaseModel):
    t: Timestamp
    exercise_slug: str | None = Field(description="Null when the device did not say")
    count: int


class UploadExport(UploadPublic):
    heart_rate: list[TimedBeat] = Field(description="(time, bpm) samples")
    reps: list[RepEventExport] = Field(description="Repetition events, as uploaded")
    energy_kcal: float | None


class MessageExport(BaseModel):
    kind: Literal["welcome", "already-registered"] = Field(
        description="A welcome, or a note that someone tried to register the address again"
    )
    created_at: Timestamp
    sent_at: Timestamp | None = Field(description="When a mailer took it; null while queued")


class AlertExport(BaseModel):
    kind: AlertKind
    created_at: Timestamp
    acknowledged_at: Timestamp | None


class InvitationExport(BaseModel):
    created_at: Timestamp
    expires_at: Timestamp
    used_at: Timestamp | None


class PatientLinkExport(BaseModel):
    patient_id: uuid.UUID
    linked_at: Timestamp


class AlertReceivedExport(AlertExport):
    patient_id: uuid.UUID


class ActionTakenExport(BaseModel):
    patient_id: uuid.UUID
    action: ClinicianActionName
    details: dict[str, Any] = action_details()
    at: Timestamp


class ClinicianRecord(BaseModel):
    invitations: list[InvitationExport] = Field(default_factory=list)
    patients: list[PatientLinkExport] = Field(default_factory=list)
    alerts: list[AlertReceivedExport] = Field(default_factory=list)
    actions: list[ActionTakenExport] = Field(default_factory=list)


class RemovedExport(Removed):
    kind: Literal["device", "clinician_link"] = Field(description="The list it left.")


class AccountExport(BaseModel):
    exported_at: Timestamp
    profile: UserPublic
    devices: list[DevicePublic]
    sign_ins: list[SignInPublic]
    failed_logins: list[Timestamp]
    messages: list[MessageExport] = Field(description="Messages to your address, queued or sent")
    checkins: list[CheckInPublic]
    advice: list[StoredAdvice]
    thresholds: dict[str, float] = Field(description="A clinician's overrides, if any")
    routine: list[RoutineExport]
    dose_changes: list[DoseChangeExport]
    sessions: list[SessionPublic] = Field(description="With their logs")
    wearable_uploads: list[UploadExport]
    clinicians: list[LinkPublic] = Field(description="Linked clinicians")
    clinician_plan: PlanPublic | None = Field(description="Null when no clinician set one")
    clinician_actions: list[ClinicianActionPublic] = Field(
        description="Every change a clinician made: who, when, what"
    )
    alerts: list[AlertExport] = Field(description="Alerts your clinicians received")
    screenings: list[ScreeningPublic] = Field(
        description="Every screening answer given, oldest first (the latest is in force)"
    )
    removed: list[RemovedExport] = Field(
        description="Tombstones: devices and clinician links removed from your lists, "
        "kept so that `?since=` can tell your other devices"
    )
    as_clinician: ClinicianRecord = Field(
        description="For clinicians: invitations made, patients, alerts received, actions "
        "taken (empty lists for everyone else)"
    )
