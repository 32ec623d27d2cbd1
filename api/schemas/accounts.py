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
from api.schemas.common import NEXT_CURSOR, Input, Removed, refuse_null, schema_without_null
from api.schemas.outcomes import OutcomePublic
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


def known_zones() -> frozenset[str]:
    """The IANA names the API accepts (the profile's `timezone`, HealthKit's HKTimeZone)."""
    return _zones()


def _known_zone(value: str) -> str:
    if value != "UTC" and value not in _zones():
        raise ValueError("not an IANA time zone name (for example Europe/London)")
    return value


TimeZoneName = Annotated[str, Field(max_length=64), AfterValidator(_known_zone)]


class RegisterIn(Input):
    email: Email = Field(
        examples=["sam@example.com"],
        description="The address to sign in with; stored trimmed and lower-cased.",
    )
    password: Password = Field(
        examples=["correct horse battery staple"], description="8 to 128 characters."
    )
    display_name: DisplayName | None = Field(
        default=None,
        examples=["Sam"],
        description="The name to show the person and their linked clinicians; optional.",
    )


class RegistrationAccepted(BaseModel):
    """The same for an address that had no account (it has one now) and for one that
    had: the answer must not tell which (a back-pain app's accounts are health data)."""

    email: str = Field(
        description="The address as stored (trimmed, lower-cased): sign in with it",
        examples=["sam@example.com"],
    )
    detail: str = Field(description="What happens next, for people")


class UserPublic(BaseModel):
    id: uuid.UUID = Field(description="The account's id.")
    email: str = Field(description="The address to sign in with, lower-cased.")
    display_name: str | None = Field(description="The name the person chose; null if none.")
    role: Role = Field(
        description="`user`; `clinician` (links and looks after patients); `admin` (edits the "
        "catalog)."
    )
    equipment: list[str] = Field(
        description="Equipment slugs the person has; sessions use them unless a request "
        "names its own."
    )
    session_minutes: int = Field(
        description="Session length in minutes when `POST /v1/sessions` names none."
    )
    timezone: str = Field(
        description="IANA time zone name (default `UTC`): the person's days are counted in it."
    )
    birth_year: int | None = Field(
        description="Year of birth; null if not given (no heart-rate zones without it)."
    )
    created_at: Timestamp = Field(description="When the account was created (UTC).")
    updated_at: Timestamp = Field(description="When the profile last changed (UTC).")


# Always set, so null cannot clear them: leave the field out to keep its value.
_NOT_NULLABLE = ("equipment", "session_minutes", "timezone")


class ProfilePatch(Input):
    model_config = ConfigDict(json_schema_extra=schema_without_null(*_NOT_NULLABLE))

    display_name: DisplayName | None = Field(
        default=None, examples=["Sam"], description="The name to show; null removes it."
    )
    equipment: list[Slug] | None = Field(
        default=None,
        max_length=20,
        examples=[["mat", "resistance-band"]],
        description="Equipment the person has, as slugs from `GET /v1/equipment`; replaces "
        "the list.",
    )
    session_minutes: int | None = Field(
        default=None,
        ge=SESSION_MINUTES_MIN,
        le=SESSION_MINUTES_MAX,
        examples=[20],
        description="Session length in minutes when `POST /v1/sessions` names none.",
    )
    timezone: TimeZoneName | None = Field(
        default=None,
        examples=["Europe/London"],
        description="IANA time zone name: the person's days are counted in it.",
    )
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
    access_token: str = Field(
        description="Send as `Authorization: Bearer <token>` until it expires, then refresh."
    )
    token_type: Literal["bearer"] = Field(default="bearer", description="Always `bearer`.")
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(
        description="Single use: swap it at `POST /v1/auth/refresh` for a new pair; keep it secret."
    )


class RefreshIn(Input):
    refresh_token: str = Field(
        min_length=1, max_length=200, description="The latest refresh token the API gave."
    )


class DeleteAccountIn(Input):
    password: SecretStr = Field(
        max_length=PASSWORD_MAX,
        examples=["correct horse battery staple"],
        description="The account's password, to confirm the erasure.",
    )


class DeviceCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": "0b6f7c1e-3f2a-4c55-9d7e-2a41c6f0b8d3", "name": "Sam's watch"}]
        }
    )

    id: Uuid | None = Field(
        default=None,
        description="Client-generated, so a retry after a lost response is not a second "
        "device: the same id and name again returns the same device and token (201, marked "
        "`Idempotent-Replayed: true`); the "
        "id with another name is a 409.",
    )
    name: DisplayName = Field(
        examples=["Sam's watch"], description="A name to tell the device apart by."
    )


class DevicePublic(BaseModel):
    id: uuid.UUID = Field(description="The device's id; `DELETE /v1/me/devices/{id}` revokes it.")
    name: str = Field(description="The name it was registered with.")
    token_prefix: str = Field(description="The token's first characters, for recognition.")
    created_at: Timestamp = Field(description="When it was registered (UTC).")
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
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class SignInPublic(BaseModel):
    """A refresh-token session, as shown in the data export (never the token)."""

    family_id: uuid.UUID = Field(
        description="The sign-in it belongs to: tokens rotated from one sign-in share it."
    )
    created_at: Timestamp = Field(description="When the token was issued (UTC).")
    expires_at: Timestamp = Field(description="When it stops working if unused (UTC).")
    used_at: Timestamp | None = Field(
        description="When it was swapped for a new pair (UTC); null if it never was."
    )
    revoked_at: Timestamp | None = Field(
        description="When its sign-in was ended (UTC), by sign-out or a used token coming "
        "back; null if not."
    )
    address: str | None = Field(description="The client address it was issued to")


class RoutineExport(BaseModel):
    exercise_slug: str = Field(description="The exercise")
    sets: int = Field(description="Sets a session; 0: left out of sessions for now")
    reps: int | None = Field(description="Reps a set; null when the exercise has no reps")
    hold_seconds: int | None = Field(description="Seconds each hold lasts; null: no hold")
    per_side: bool = Field(description="Whether the dose is done on each side")
    active: bool = Field(
        description="False while not in use: a harder variation waiting, or one a variation "
        "replaced"
    )
    created_at: Timestamp = Field(description="When it entered the routine (UTC)")
    updated_at: Timestamp = Field(description="When its dose or `active` last changed (UTC)")


class DoseExport(BaseModel):
    exercise_slug: str = Field(description="The exercise the dose is for")
    sets: int = Field(description="Sets a session; 0: left out of sessions")
    reps: int | None = Field(description="Reps a set; null when the exercise has no reps")
    hold_seconds: int | None = Field(description="Seconds each hold lasts; null: no hold")
    per_side: bool = Field(description="Whether the dose is done on each side")


class DoseChangeExport(BaseModel):
    at: Timestamp = Field(description="When the change was made (UTC)")
    rule_id: str = Field(description="The rule that made it (see GET /v1/rules)")
    source: str = Field(
        description="What triggered it: a check-in or session id, or a day (YYYY-MM-DD)"
    )
    exercise_slug: str = Field(description="The exercise whose dose changed")
    to_exercise_slug: str = Field(
        description="The exercise after it: the same one, or its harder or easier variation"
    )
    from_dose: DoseExport = Field(description="The dose before")
    to_dose: DoseExport = Field(description="The dose after")


class RepEventExport(BaseModel):
    t: Timestamp = Field(description="When the reps were counted (UTC)")
    exercise_slug: str | None = Field(description="Null when the device did not say")
    count: int = Field(description="Reps counted in this event")


class UploadExport(UploadPublic):
    heart_rate: list[TimedBeat] = Field(description="(time, bpm) samples")
    reps: list[RepEventExport] = Field(description="Repetition events, as uploaded")
    energy_kcal: float | None = Field(
        description="Energy burned in kilocalories, as the device reported; null if not sent"
    )


class MessageExport(BaseModel):
    kind: Literal["welcome", "already-registered"] = Field(
        description="A welcome, or a note that someone tried to register the address again"
    )
    created_at: Timestamp = Field(description="When it was queued (UTC)")
    sent_at: Timestamp | None = Field(description="When a mailer took it; null while queued")


class AlertExport(BaseModel):
    kind: AlertKind = Field(description="Why the alert was raised")
    created_at: Timestamp = Field(description="When it was raised (UTC)")
    acknowledged_at: Timestamp | None = Field(
        description="When the clinician acknowledged it (UTC); null while open"
    )


class InvitationExport(BaseModel):
    created_at: Timestamp = Field(description="When the code was made (UTC)")
    expires_at: Timestamp = Field(description="When it stops or stopped working (UTC)")
    used_at: Timestamp | None = Field(description="When a patient used it (UTC); null if unused")


class PatientLinkExport(BaseModel):
    patient_id: uuid.UUID = Field(description="The linked patient's account id")
    linked_at: Timestamp = Field(description="When they linked you (UTC)")


class AlertReceivedExport(AlertExport):
    patient_id: uuid.UUID = Field(description="The patient it was about")


class ActionTakenExport(BaseModel):
    patient_id: uuid.UUID = Field(description="The patient it concerns")
    action: ClinicianActionName = Field(description="What was done")
    details: dict[str, Any] = action_details()
    at: Timestamp = Field(description="When it was done (UTC)")


class ClinicianRecord(BaseModel):
    invitations: list[InvitationExport] = Field(
        default_factory=list,
        description="Invitation codes made, oldest first (the codes themselves are not kept)",
    )
    patients: list[PatientLinkExport] = Field(
        default_factory=list, description="Patients linked now, oldest link first"
    )
    alerts: list[AlertReceivedExport] = Field(
        default_factory=list,
        description="Alerts about patients kept for you, oldest first (one worked out on "
        "reading, once acknowledged)",
    )
    actions: list[ActionTakenExport] = Field(
        default_factory=list,
        description="Actions on patients' records under your name (links too), oldest first",
    )


class RemovedExport(Removed):
    kind: Literal["device", "clinician_link"] = Field(description="The list it left.")


class ImportKeyExport(BaseModel):
    key: str = Field(description="The Idempotency-Key as the app sent it")
    created_at: Timestamp = Field(description="When it was first used (UTC)")
    expires_at: Timestamp = Field(description="When it is forgotten (UTC)")


class AccountExport(BaseModel):
    exported_at: Timestamp = Field(description="When this export was made (UTC)")
    profile: UserPublic = Field(description="The profile, as `GET /v1/me` shows it")
    devices: list[DevicePublic] = Field(
        description="Registered wearables, oldest first (revoked ones are in `removed`)"
    )
    sign_ins: list[SignInPublic] = Field(description="Every refresh token issued, oldest first")
    failed_logins: list[Timestamp] = Field(
        description="Recent wrong-password attempts still counted against the account (UTC), "
        "oldest first"
    )
    messages: list[MessageExport] = Field(description="Messages to your address, queued or sent")
    checkins: list[CheckInPublic] = Field(description="Every check-in, oldest first")
    advice: list[StoredAdvice] = Field(description="Every stored advice, oldest first")
    thresholds: dict[str, float] = Field(description="A clinician's overrides, if any")
    routine: list[RoutineExport] = Field(
        description="The stored dose of each exercise (before any clinician cap), by slug"
    )
    dose_changes: list[DoseChangeExport] = Field(
        description="Every dose change the rules made, oldest first"
    )
    sessions: list[SessionPublic] = Field(description="With their logs")
    wearable_uploads: list[UploadExport] = Field(
        description="Every wearable upload with its samples, oldest recording first"
    )
    import_keys: list[ImportKeyExport] = Field(
        description="The Idempotency-Keys of imports sent with your own token that are "
        "still in force (24 hours), oldest first; the answer each replays is its import, in "
        "`wearable_uploads` (a device's keys go with the device)"
    )
    clinicians: list[LinkPublic] = Field(description="Linked clinicians")
    clinician_plan: PlanPublic | None = Field(description="Null when no clinician set one")
    clinician_actions: list[ClinicianActionPublic] = Field(
        description="Every change a clinician made: who, when, what"
    )
    alerts: list[AlertExport] = Field(description="Alerts your clinicians received")
    screenings: list[ScreeningPublic] = Field(
        description="Every screening answer given, oldest first (the latest is in force)"
    )
    outcomes: list[OutcomePublic] = Field(
        description="Every outcome measure answered, oldest first, scored"
    )
    removed: list[RemovedExport] = Field(
        description="Tombstones: devices and clinician links removed from your lists, "
        "kept so that `?since=` can tell your other devices"
    )
    as_clinician: ClinicianRecord = Field(
        description="For clinicians: invitations made, patients, alerts received, actions "
        "taken (empty lists for everyone else)"
    )
