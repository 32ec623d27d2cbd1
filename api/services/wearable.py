"""Wearable uploads: tolerant of duplicates, merged by recording.

Idempotency keys: api/services/idempotency_keys.py. Packing samples and summarising them:
api/services/wearable_summaries.py. Platform imports: api/services/health_imports.py."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.db import offset_text
from api.errors import FieldError, FieldIssue, PayloadTooLarge
from api.models import (
    Device,
    Exercise,
    SessionLogRow,
    TrainingSession,
    User,
    WearableUpload,
)
from api.pagination import keyset_page
from api.schemas.wearable import (
    MAX_HEART_RATE_SAMPLES,
    MAX_REP_EVENTS,
    UploadIn,
    UploadPublic,
    UploadResult,
    WearableSummary,
)
from api.services.clock import future_error
from api.services.idempotency_keys import KeyRow, finish
from api.services.store import bulk_body_digest
from api.services.wearable_summaries import pack_heart_rate, summarise, unpack_heart_rate

MAX_RECORDING = timedelta(hours=24)


# --- parsing and checking --------------------------------------------------------------


def parse(raw: bytes) -> UploadIn:
    try:
        return UploadIn.model_validate_json(raw)
    except ValidationError as exc:
        if any(err["type"] == "too_long" for err in exc.errors()):
            raise PayloadTooLarge(
                f"At most {MAX_HEART_RATE_SAMPLES} heart-rate samples and {MAX_REP_EVENTS} "
                "rep events per upload; split longer recordings (same device_session_id)."
            ) from exc
        errors: list[FieldIssue] = []
        for err in exc.errors()[:20]:
            field = ".".join(str(p) for p in err["loc"]) or "body"
            errors.append((field, str(err["msg"]), str(err["type"])))
        raise FieldError(errors) from exc


def request_hash(upload: UploadIn) -> str:
    """What an Idempotency-Key is bound to: the upload as parsed, every time in UTC, so a
    retry written with another offset is the same request."""
    return bulk_body_digest(upload)


def _check(session: Session, user_id: uuid.UUID, upload: UploadIn, now: datetime) -> None:
    errors: list[FieldIssue] = []
    if upload.ended_at <= upload.started_at:
        errors.append(("ended_at", "must be after started_at", "order"))
    elif upload.ended_at - upload.started_at > MAX_RECORDING:
        errors.append(("ended_at", "a recording cannot last more than 24 hours", "too_long"))
    errors += future_error("started_at", upload.started_at, now)
    if len(upload.heart_rate) > MAX_HEART_RATE_SAMPLES:
        errors.append(
            ("heart_rate", f"at most {MAX_HEART_RATE_SAMPLES} samples per upload", "too_many")
        )
    if len(upload.reps) > MAX_REP_EVENTS:
        errors.append(("reps", f"at most {MAX_REP_EVENTS} events per upload", "too_many"))
    lo, hi = upload.started_at, upload.ended_at
    for index, sample in enumerate(upload.heart_rate):
        if not lo <= sample.t <= hi:
            errors.append(
                (f"heart_rate.{index}.t", "is outside started_at..ended_at", "out_of_range")
            )
            break
    for index, event in enumerate(upload.reps):
        if not lo <= event.t <= hi:
            errors.append((f"reps.{index}.t", "is outside started_at..ended_at", "out_of_range"))
            break
    slugs = {e.exercise_slug for e in upload.reps if e.exercise_slug}
    if slugs:
        known = set(session.exec(select(Exercise.slug).where(col(Exercise.slug).in_(slugs))).all())
        unknown = sorted(slugs - known)
        if unknown:
            errors.append(("reps", f"unknown exercise(s): {', '.join(unknown)}", "unknown"))
    if upload.session_id is not None:
        owner = session.exec(
            select(TrainingSession.user_id).where(TrainingSession.id == upload.session_id)
        ).first()
        if owner != user_id:
            errors.append(("session_id", "no such session of yours", "unknown"))
    if errors:
        raise FieldError(errors)


# --- storing -----------------------------------------------------------------------------


def _seconds(moment: datetime, origin: datetime) -> int:
    return int((moment - origin).total_seconds() // 1)


def _match_session(
    session: Session, user_id: uuid.UUID, started_at: datetime, ended_at: datetime
) -> uuid.UUID | None:
    """The person's logged session that overlaps the recording most, if any."""
    candidates = session.exec(
        select(SessionLogRow.session_id, SessionLogRow.started_at, SessionLogRow.ended_at).where(
            SessionLogRow.user_id == user_id,
            col(SessionLogRow.started_at) <= ended_at,
            col(SessionLogRow.ended_at) >= started_at,
        )
    ).all()
    if not candidates:
        return None

    def overlap(row: tuple[uuid.UUID, datetime, datetime]) -> tuple[float, str]:
        _, s, e = row
        return (min(e, ended_at) - max(s, started_at)).total_seconds(), str(row[0])

    return max(candidates, key=overlap)[0]


def store_upload(
    session: Session,
    device: Device,
    upload: UploadIn,
    key: KeyRow,
    now: datetime,
) -> UploadResult:
    user = session.get(User, device.user_id)
    assert user is not None
    _check(session, device.user_id, upload, now)
    for attempt in (1, 2):
        try:
            return _merge_and_store(session, device, user, upload, key, now)
        except IntegrityError:
            # Another upload of the same recording created its row first: merge into it.
            session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Imported:
    """What an import (api/services/health_imports.py) keeps besides an upload's fields:
    the recording is found by the platform's record id, whatever device sends it."""

    source: str
    platform_record_id: str
    exercise_type: str
    start_offset_minutes: int | None
    end_offset_minutes: int | None
    segments: list[dict[str, Any]]
    # None: match it to a session as an upload is; otherwise why it is matched to none.
    unmatched_reason: str | None


def _merge_and_store(
    session: Session,
    device: Device,
    user: User,
    upload: UploadIn,
    key: KeyRow,
    now: datetime,
) -> UploadResult:
    row = merge_recording(session, user, device.id, upload, now)
    result = UploadResult(
        id=row.id, matched_session_id=row.session_id, summary=WearableSummary(**row.summary)
    )
    finish(session, key, result.model_dump(mode="json"))
    return result


def merge_recording(
    session: Session,
    user: User,
    device_id: uuid.UUID | None,
    upload: UploadIn,
    now: datetime,
    imported: Imported | None = None,
    beats: Sequence[tuple[datetime, int]] | None = None,
) -> WearableUpload:
    """Merge an upload (or import) into its recording's row, creating it the first time;
    flushed, not committed. `device_id`: the device that sent it; None for an import the
    person's app sent with their own token. `beats` (time, bpm) stands for `upload.heart_rate` when
    given: an import's samples, without a model object per sample."""
    match: tuple[ColumnElement[bool], ...]
    if imported is None:
        match = (
            col(WearableUpload.device_id) == device_id,
            col(WearableUpload.source) == "upload",
            col(WearableUpload.device_session_id) == upload.device_session_id,
        )
    else:
        match = (
            col(WearableUpload.user_id) == user.id,
            col(WearableUpload.source) == imported.source,
            col(WearableUpload.platform_record_id) == imported.platform_record_id,
        )
    # Take the recording's row lock before reading it (a no-op write works on SQLite and
    # PostgreSQL alike), so concurrent uploads of one recording merge one after another.
    session.exec(update(WearableUpload).where(*match).values(updated_at=WearableUpload.updated_at))
    row = session.exec(select(WearableUpload).where(*match)).first()
    started = min(upload.started_at, row.started_at) if row else upload.started_at
    ended = max(upload.ended_at, row.ended_at) if row else upload.ended_at
    # A platform's record imported again (after an edit) is the record as it is now: its
    # own span and reps; heart rate kept from before only where the span still holds it.
    fresh = imported is not None
    if fresh:
        started, ended = upload.started_at, upload.ended_at
    # Whole seconds from a whole-second start: two samples share a key only when they
    # fall in the same second.
    started = started.replace(microsecond=0)
    if ended - started > MAX_RECORDING:
        raise FieldError(
            [("ended_at", "merged with earlier uploads the recording passes 24 hours", "too_long")]
        )
    # Seconds precision; a second already stored keeps its first value.
    samples: dict[int, int] = {}
    if row is not None:
        for offset, bpm in unpack_heart_rate(row.heart_rate):
            at = row.started_at + timedelta(seconds=offset)
            if not fresh or started <= at <= ended:
                samples[_seconds(at, started)] = bpm
    given = beats if beats is not None else [(x.t, x.bpm) for x in upload.heart_rate]
    for at, bpm in given:
        samples.setdefault(_seconds(at, started), bpm)
    ordered = sorted(samples.items())
    if len(ordered) > MAX_HEART_RATE_SAMPLES:
        raise PayloadTooLarge(
            f"Merged with earlier uploads the recording passes {MAX_HEART_RATE_SAMPLES} samples."
        )
    events: dict[tuple[int, str], dict[str, Any]] = {}
    earlier = row.reps if row is not None and not fresh else []
    for event in [*earlier, *(e.model_dump(mode="json") for e in upload.reps)]:
        at = datetime.fromisoformat(event["t"])
        events.setdefault((_seconds(at, started), event.get("exercise_slug") or ""), event)
    reps = [events[k] for k in sorted(events)]
    energy = (
        upload.energy_kcal if upload.energy_kcal is not None else (row.energy_kcal if row else None)
    )
    matched = upload.session_id or (row.session_id if row else None)
    if imported is not None and imported.unmatched_reason is not None:
        matched = None
    elif matched is None:
        matched = _match_session(session, user.id, started, ended)
    summary = summarise(started, ended, ordered, reps, energy, user.birth_year, now)
    if row is None:
        row = WearableUpload(
            user_id=user.id,
            device_id=device_id,
            device_session_id=upload.device_session_id,
            started_at=started,
            ended_at=ended,
            received_at=now,
            heart_rate=b"",
        )
    # A session whose wearable summary this changes has changed for the apps that sync
    # it (`GET /v1/sessions?since=`): the one matched now and one it moved away from.
    touch_sessions(
        session,
        user.id,
        {s for s in (matched, row.session_id if row else None) if s is not None},
        now,
    )
    row.started_at, row.ended_at = started, ended
    row.session_id = matched
    row.heart_rate = pack_heart_rate(ordered)
    row.sample_count = len(ordered)
    row.reps = reps
    row.energy_kcal = energy
    row.device_model = upload.device_model or row.device_model
    row.software_version = upload.software_version or row.software_version
    row.summary = summary.model_dump(mode="json")
    row.updated_at = now
    if imported is not None:
        row.source = imported.source
        row.platform_record_id = imported.platform_record_id
        row.exercise_type = imported.exercise_type
        row.start_offset_minutes = imported.start_offset_minutes
        row.end_offset_minutes = imported.end_offset_minutes
        row.segments = imported.segments
        row.unmatched_reason = imported.unmatched_reason
    session.add(row)
    session.flush()
    return row


def touch_sessions(
    session: Session, user_id: uuid.UUID, ids: set[uuid.UUID], now: datetime
) -> None:
    """Sessions whose wearable summary changed have changed for the apps that sync them."""
    if ids:
        session.exec(
            update(TrainingSession)
            .where(col(TrainingSession.id).in_(ids), col(TrainingSession.user_id) == user_id)
            .values(updated_at=now)
        )


def list_uploads(
    session: Session,
    user: User,
    *,
    matched: bool | None,
    since: datetime | None = None,
    limit: int,
    cursor: str | None,
) -> tuple[list[UploadPublic], str | None]:
    """Newest recording first; with `since`, those stored or changed since (matched to a
    session, merged with another upload, their device revoked), oldest change first."""
    if since is not None and matched is not None:
        # A delta of a filtered list would need a tombstone for each upload that left
        # the filter (matched since); sync the whole list and filter on the device.
        raise FieldError(
            [("since", "cannot be combined with matched; sync all uploads", "conflict")],
            where="query",
        )
    stmt = select(WearableUpload).where(WearableUpload.user_id == user.id)
    if matched is True:
        stmt = stmt.where(col(WearableUpload.session_id).is_not(None))
    elif matched is False:
        stmt = stmt.where(col(WearableUpload.session_id).is_(None))
    if since is not None:
        stmt = stmt.where(col(WearableUpload.updated_at) >= since)
    rows, next_cursor = keyset_page(
        session,
        stmt,
        time_col=WearableUpload.started_at if since is None else WearableUpload.updated_at,
        id_col=WearableUpload.id,
        limit=limit,
        cursor=cursor,
        descending=since is None,
    )
    return [
        UploadPublic(
            id=r.id,
            matched_session_id=r.session_id,
            summary=WearableSummary.model_validate(r.summary),
            device_id=r.device_id,
            device_session_id=r.device_session_id,
            started_at=r.started_at,
            ended_at=r.ended_at,
            device_model=r.device_model,
            software_version=r.software_version,
            received_at=r.received_at,
            updated_at=r.updated_at,
            **import_fields(r),
        )
        for r in rows
    ], next_cursor


def import_fields(row: WearableUpload) -> dict[str, Any]:
    """What an import keeps besides an upload's fields, as the lists show it."""
    return {
        "source": row.source,
        "platform_record_id": row.platform_record_id,
        "exercise_type": row.exercise_type,
        "start_offset": offset_text(row.start_offset_minutes),
        "end_offset": offset_text(row.end_offset_minutes),
        "segments": row.segments,
        "unmatched_reason": row.unmatched_reason,
    }
