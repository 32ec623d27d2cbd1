"""Imports of workouts as the phone platforms record them (issue 20).

An import is stored as an upload is (api/services/wearable.py: the same row, summary,
session matching and merging of samples by the second), plus what the platform adds: its
record id (the recording's identity: a re-import under any key is the same row), exercise
type, time-zone offsets and segments, mapped to catalog exercises by name through
seed_data/health_platforms.yaml.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.domain.evidence import iso
from api.errors import FieldError, FieldIssue, PayloadTooLarge
from api.models import Device, IdempotencyKey, User
from api.schemas.health_imports import HealthConnectImport, ImportResult
from api.schemas.wearable import (
    BPM_MAX,
    BPM_MIN,
    MAX_HEART_RATE_SAMPLES,
    ImportedSegment,
    RepEvent,
    UploadIn,
    WearableSummary,
)
from api.services.clock import future_error
from api.services.health_platforms import PlatformMaps
from api.services.wearable import MAX_RECORDING, Imported, finish, merge_recording

HEALTH_CONNECT = "health_connect"


def parse_health_connect(raw: bytes) -> HealthConnectImport:
    """The body as Health Connect's records give it; each error names the field as sent
    (`exerciseSession.segments.0.segmentType`)."""
    try:
        return HealthConnectImport.model_validate_json(raw)
    except ValidationError as exc:
        if any(err["type"] == "too_long" for err in exc.errors()):
            raise PayloadTooLarge(
                f"At most {MAX_HEART_RATE_SAMPLES} heart-rate samples per record; split the "
                "heart rate over several imports of the same session."
            ) from exc
        errors: list[FieldIssue] = []
        for err in exc.errors()[:20]:
            field = ".".join(str(p) for p in err["loc"]) or "body"
            errors.append((field, str(err["msg"]), str(err["type"])))
        raise FieldError(errors) from exc


def offset_minutes(text: str | None) -> int | None:
    """`+05:30` -> 330; `Z` -> 0; none given -> None."""
    if text is None:
        return None
    if text == "Z":
        return 0
    sign = -1 if text[0] == "-" else 1
    hours, minutes = text[1:].split(":")
    return sign * (int(hours) * 60 + int(minutes))


def _device_session_id(record_id: str) -> str:
    # The platform id is the recording's identity; this is only its label in the list.
    label = f"health-connect:{record_id}"
    if len(label) <= 128:
        return label
    return f"health-connect:{hashlib.sha256(record_id.encode()).hexdigest()}"


def import_health_connect(
    session: Session,
    device: Device,
    body: HealthConnectImport,
    key: IdempotencyKey,
    maps: PlatformMaps,
    now: datetime,
) -> ImportResult:
    record = body.exercise_session
    started, ended = record.start_time, record.end_time
    errors: list[FieldIssue] = []
    where = "exerciseSession"
    if ended <= started:
        errors.append((f"{where}.endTime", "must be after startTime", "order"))
    elif ended - started > MAX_RECORDING:
        errors.append((f"{where}.endTime", "a session cannot last more than 24 hours", "too_long"))
    errors += future_error(f"{where}.startTime", started, now)
    for index, segment in enumerate(record.segments):
        if not started <= segment.start_time <= segment.end_time <= ended:
            errors.append(
                (f"{where}.segments.{index}", "must lie within the session, its start before "
                 "its end", "out_of_range")
            )  # fmt: skip
    if errors:
        raise FieldError(errors)

    # Heart rate the platform recorded around the session is not the session's; nor is
    # a reading no heart makes during exercise (a sensor error). Both are counted.
    beats: list[tuple[datetime, int]] = []
    dropped = 0
    for heart in body.heart_rate:
        for sample in heart.samples:
            bpm = sample.beats_per_minute
            if started <= sample.time <= ended and BPM_MIN <= bpm <= BPM_MAX:
                beats.append((sample.time, bpm))
            else:
                dropped += 1

    mapping = maps.health_connect.segment_types
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
    upload = UploadIn.model_construct(
        device_session_id=_device_session_id(record.metadata.id),
        session_id=None,
        started_at=started,
        ended_at=ended,
        heart_rate=[],
        reps=reps,
        energy_kcal=None,
        device_model=device_model,
        software_version=None,
    )
    imported = Imported(
        source=HEALTH_CONNECT,
        platform_record_id=record.metadata.id,
        exercise_type=record.exercise_type,
        start_offset_minutes=offset_minutes(record.start_zone_offset),
        end_offset_minutes=offset_minutes(record.end_zone_offset),
        segments=segments,
        unmatched_reason=reason,
    )
    user = session.get(User, device.user_id)
    assert user is not None
    for attempt in (1, 2):
        try:
            row = merge_recording(session, device, user, upload, now, imported, beats)
            break
        except IntegrityError:
            # Another import of the same record created its row first: merge into it.
            session.rollback()
            if attempt == 2:
                raise
    result = ImportResult(
        id=row.id,
        matched_session_id=row.session_id,
        summary=WearableSummary.model_validate(row.summary),
        platform_record_id=record.metadata.id,
        segments=[ImportedSegment.model_validate(s) for s in segments],
        unmapped_segment_types=sorted(unmapped),
        dropped_samples=dropped,
        unmatched_reason=reason,
    )
    finish(session, key, result.model_dump(mode="json"))
    return result
