"""Imports of workouts as the phone platforms record them (issue 20).

An import is stored as an upload is (api/services/wearable.py: the same row, summary,
session matching and merging of samples by the second), plus what the platform adds: its
record id (the recording's identity: a re-import under any key is the same row), exercise
type, time-zone offsets and segments, mapped to catalog exercises by name through the
admin-editable segment_type_mappings (seeded from seed_data/health_platforms.yaml).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.domain.catalog import CatalogInfo
from api.domain.evidence import iso
from api.errors import FieldError, FieldIssue, PayloadTooLarge
from api.models import Device, User
from api.schemas.accounts import known_zones
from api.schemas.health_imports import HealthConnectImport, ImportResult
from api.schemas.healthkit import HealthKitImport
from api.schemas.wearable import (
    BPM_MAX,
    BPM_MIN,
    MAX_HEART_RATE_SAMPLES,
    ImportedSegment,
    RepEvent,
    UploadIn,
    WearableSummary,
)
from api.services import segment_mappings
from api.services.clock import future_error
from api.services.health_platforms import PlatformMaps
from api.services.idempotency_keys import KeyRow, finish
from api.services.import_logs import counted_slugs, fill_log, match_unlogged
from api.services.wearable import MAX_RECORDING, Imported, merge_recording

HEALTH_CONNECT = "health_connect"
HEALTHKIT = "healthkit"
# As an upload's `energy_kcal`.
MAX_ENERGY_KCAL = 20_000.0


def _problem(exc: ValidationError) -> Exception:
    """A body that does not parse, as a problem naming each field as sent. Too many
    heart-rate samples is a 413 (split them); any other list too long, a 422 naming it."""
    if any(err["type"] == "too_long" and _sample_list(err["loc"]) for err in exc.errors()):
        return PayloadTooLarge(
            f"At most {MAX_HEART_RATE_SAMPLES} heart-rate samples per import; split them over "
            "several imports of the same workout."
        )
    errors: list[FieldIssue] = []
    for err in exc.errors()[:20]:
        field = ".".join(str(p) for p in err["loc"]) or "body"
        errors.append((field, str(err["msg"]), str(err["type"])))
    return FieldError(errors)


def _sample_list(loc: tuple[int | str, ...]) -> bool:
    """Health Connect's `heartRate.N.samples`, or HealthKit's `heartRate`."""
    return loc[-1:] == ("samples",) or loc == ("heartRate",)


def parse_health_connect(raw: bytes) -> HealthConnectImport:
    """The body as Health Connect's records give it; each error names the field as sent
    (`exerciseSession.segments.0.segmentType`)."""
    try:
        return HealthConnectImport.model_validate_json(raw)
    except ValidationError as exc:
        raise _problem(exc) from exc


def offset_minutes(text: str | None) -> int | None:
    """`+05:30` -> 330; `Z` -> 0; none given -> None."""
    if text is None:
        return None
    if text == "Z":
        return 0
    sign = -1 if text[0] == "-" else 1
    hours, minutes = text[1:].split(":")
    return sign * (int(hours) * 60 + int(minutes))


def import_health_connect(
    session: Session,
    user_id: uuid.UUID,
    device: Device | None,
    body: HealthConnectImport,
    key: KeyRow,
    maps: PlatformMaps,
    catalog: dict[str, CatalogInfo],
    now: datetime,
) -> ImportResult:
    record = body.exercise_session
    started, ended = record.start_time, record.end_time
    where = "exerciseSession"
    errors = _span_errors(where, started, ended, now, "startTime", "endTime")
    for index, segment in enumerate(record.segments):
        if not started <= segment.start_time <= segment.end_time <= ended:
            errors.append(
                (f"{where}.segments.{index}", "must lie within the session, its start before "
                 "its end", "out_of_range")
            )  # fmt: skip
    if errors:
        raise FieldError(errors)

    beats, dropped = _kept(
        [(x.time, x.beats_per_minute) for heart in body.heart_rate for x in heart.samples],
        started,
        ended,
    )

    mapping = segment_mappings.counted_in(segment_mappings.current(session), catalog)
    segments: list[dict[str, Any]] = []
    reps: list[RepEvent] = []
    unmapped: set[str] = set()
    for segment in record.segments:
        slug = mapping.get(segment.segment_type)
        if segment.segment_type not in mapping:
            unmapped.add(segment.segment_type)
        segments.append(
            {
                "start_time": iso(segment.start_time),
                "end_time": iso(segment.end_time),
                "segment_type": segment.segment_type,
                "exercise_slug": slug,
                "repetitions": segment.repetitions,
                "rate_of_perceived_exertion": segment.rate_of_perceived_exertion,
            }
        )
        if slug is not None and segment.repetitions:
            reps.append(
                RepEvent.model_construct(
                    t=segment.start_time, exercise_slug=slug, count=segment.repetitions
                )
            )
    reason = None
    if record.exercise_type not in maps.health_connect.exercise_types:
        reason = (
            f"{record.exercise_type} is not a type Backstrong sessions are recorded as, so it "
            "is matched to no session"
        )
    device_model = record.metadata.device.model if record.metadata.device else None
    imported = Imported(
        source=HEALTH_CONNECT,
        platform_record_id=record.metadata.id,
        exercise_type=record.exercise_type,
        start_offset_minutes=offset_minutes(record.start_zone_offset),
        end_offset_minutes=offset_minutes(record.end_zone_offset),
        segments=segments,
        unmatched_reason=reason,
    )
    return _store(
        session, user_id, device, key, now, imported, started, ended, beats, reps, None,
        device_model, sorted(unmapped), dropped, catalog,
    )  # fmt: skip


def _device_label(source: str, record_id: str) -> str:
    # The platform id is the recording's identity; this is only its label in the list.
    label = f"{source}:{record_id}"
    if len(label) <= 128:
        return label
    return f"{source}:{hashlib.sha256(record_id.encode()).hexdigest()}"


def _store(
    session: Session,
    user_id: uuid.UUID,
    device: Device | None,
    key: KeyRow,
    now: datetime,
    imported: Imported,
    started: datetime,
    ended: datetime,
    beats: list[tuple[datetime, int]],
    reps: list[RepEvent],
    energy_kcal: float | None,
    device_model: str | None,
    unmapped: list[str],
    dropped: int,
    catalog: dict[str, CatalogInfo],
) -> ImportResult:
    """Store an import as an upload is, found again by its platform record id."""
    upload = UploadIn.model_construct(
        device_session_id=_device_label(imported.source, imported.platform_record_id),
        session_id=None,
        started_at=started,
        ended_at=ended,
        heart_rate=[],
        reps=reps,
        energy_kcal=energy_kcal,
        device_model=device_model,
        software_version=None,
    )
    user = session.get(User, user_id)
    assert user is not None
    device_id = device.id if device is not None else None
    for attempt in (1, 2):
        try:
            row = merge_recording(session, user, device_id, upload, now, imported, beats)
            break
        except IntegrityError:
            # Another import of the same record created its row first: merge into it.
            session.rollback()
            if attempt == 2:
                raise
    filled = False
    if imported.segments:
        if row.session_id is None and imported.unmatched_reason is None:
            # No logged session holds it: the unlogged one it recorded, if one plans what
            # it counted.
            slugs = counted_slugs(imported.segments)
            found = match_unlogged(session, user.id, started, ended, slugs)
            if found is not None:
                row.session_id = found
                # Its log moves the session's `updated_at` when it is written.
                filled = fill_log(session, user, row, catalog, now)
                # Matched only by what it counted: kept only as the session's log.
                row.session_id = found if filled else None
                session.add(row)
        else:
            filled = fill_log(session, user, row, catalog, now)
    result = ImportResult(
        id=row.id,
        matched_session_id=row.session_id,
        summary=WearableSummary.model_validate(row.summary),
        platform_record_id=imported.platform_record_id,
        segments=[ImportedSegment.model_validate(s) for s in imported.segments],
        unmapped_segment_types=unmapped,
        dropped_samples=dropped,
        unmatched_reason=imported.unmatched_reason,
        log_filled=filled,
    )
    finish(session, key, result.model_dump(mode="json"))
    return result


def _kept(
    beats: list[tuple[datetime, int]], started: datetime, ended: datetime
) -> tuple[list[tuple[datetime, int]], int]:
    """Heart rate the platform recorded around the session is not the session's; nor is
    a reading no heart makes during exercise (a sensor error). Both are counted."""
    kept = [(t, b) for t, b in beats if started <= t <= ended and BPM_MIN <= b <= BPM_MAX]
    return kept, len(beats) - len(kept)


def _span_errors(where: str, started: datetime, ended: datetime, now: datetime,
                 start_name: str, end_name: str) -> list[FieldIssue]:  # fmt: skip
    errors: list[FieldIssue] = []
    if ended <= started:
        errors.append((f"{where}.{end_name}", f"must be after {start_name}", "order"))
    elif ended - started > MAX_RECORDING:
        errors.append((f"{where}.{end_name}", "a workout cannot last more than 24 hours",
                       "too_long"))  # fmt: skip
    errors += future_error(f"{where}.{start_name}", started, now)
    return errors


def parse_healthkit(raw: bytes) -> HealthKitImport:
    """The body as HealthKit's objects give it (`workout.workoutActivityType`)."""
    try:
        return HealthKitImport.model_validate_json(raw)
    except ValidationError as exc:
        raise _problem(exc) from exc


def import_healthkit(
    session: Session,
    user_id: uuid.UUID,
    device: Device | None,
    body: HealthKitImport,
    key: KeyRow,
    maps: PlatformMaps,
    catalog: dict[str, CatalogInfo],
    now: datetime,
) -> ImportResult:
    """An HKWorkout and its heart-rate samples. HealthKit has no per-exercise segments:
    reps come from the app's log."""
    workout = body.workout
    started, ended = workout.start_date, workout.end_date
    errors = _span_errors("workout", started, ended, now, "startDate", "endDate")
    zone_name = workout.metadata.hk_time_zone if workout.metadata else None
    zone = None
    if zone_name is not None:
        # Only the zones the profile accepts: a directory or a host's own alias ("America",
        # "localtime") is no time zone, whatever the system's files say.
        if zone_name != "UTC" and zone_name not in known_zones():
            errors.append(("workout.metadata.HKTimeZone", "not an IANA time zone name", "unknown"))
        else:
            zone = ZoneInfo(zone_name)
    if errors:
        raise FieldError(errors)
    beats, dropped = _kept(
        [(q["startDate"], round(q["quantity"]["value"])) for q in body.heart_rate],
        started,
        ended,
    )
    reason = None
    if workout.workout_activity_type not in maps.healthkit.workout_activity_types:
        reason = (
            f"{workout.workout_activity_type} is not a type Backstrong sessions are recorded "
            "as, so it is matched to no session"
        )
    energy = None
    if workout.total_energy_burned is not None:
        burned = workout.total_energy_burned
        energy = burned.value if burned.unit == "kcal" else round(burned.value / 4.184, 1)
        if energy > MAX_ENERGY_KCAL:
            raise FieldError([("workout.totalEnergyBurned.value",
                               f"at most {MAX_ENERGY_KCAL:g} kcal", "too_large")])  # fmt: skip

    def offset(moment: datetime) -> int | None:
        found = moment.astimezone(zone).utcoffset() if zone is not None else None
        # Toward zero, as an offset is written (-00:44:30 is -00:44).
        return None if found is None else int(found.total_seconds() / 60)

    imported = Imported(
        source=HEALTHKIT,
        platform_record_id=workout.uuid,
        exercise_type=workout.workout_activity_type,
        start_offset_minutes=offset(started),
        end_offset_minutes=offset(ended),
        segments=[],
        unmatched_reason=reason,
    )
    device_model = workout.device.model if workout.device else None
    return _store(
        session, user_id, device, key, now, imported, started, ended, beats, [], energy,
        device_model, [], dropped, catalog,
    )  # fmt: skip
