"""Wearable uploads: idempotent by key, tolerant of duplicates, merged by recording."""

from __future__ import annotations

import hashlib
import uuid
import zlib
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.errors import AppError, Conflict, FieldError, PayloadTooLarge
from api.models import (
    Device,
    Exercise,
    IdempotencyKey,
    SessionLogRow,
    TrainingSession,
    User,
    WearableUpload,
)
from api.pagination import keyset_page
from api.schemas.wearable import (
    MAX_HEART_RATE_SAMPLES,
    MAX_REP_EVENTS,
    HeartRateSummary,
    UploadIn,
    UploadPublic,
    UploadResult,
    WearableSummary,
    ZoneSeconds,
)

# Stripe and the IETF Idempotency-Key draft: keys live at least a day.
IDEMPOTENCY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
MAX_RECORDING = timedelta(hours=24)
CLOCK_SKEW = timedelta(minutes=5)
# A request that died mid-way (process killed) must not block its key for a day: after
# this long an in-flight key may be taken over by a retry of the same request.
IN_FLIGHT_LEASE = timedelta(seconds=60)
# A sample stands for the time until the next one, up to this (sensors drop out).
MAX_SAMPLE_GAP_SECONDS = 5
# Tanaka, Monahan & Seals 2001: age-predicted maximum heart rate = 208 - 0.7 x age.
ZONE_BOUNDS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


class IdempotencyKeyReused(AppError):
    status, slug = 422, "idempotency-key-reused"


class Replay(Exception):
    """The key was used before for the same request: answer as the first time."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


# --- compact samples ---------------------------------------------------------------------


def pack_heart_rate(samples: Sequence[tuple[int, int]]) -> bytes:
    """(offset seconds from the start, bpm), sorted by offset -> zlib-compressed arrays of
    offset deltas and bpms: steady 1 Hz data packs to about a byte per sample."""
    deltas = array("I")
    previous = 0
    for offset, _ in samples:
        deltas.append(offset - previous)
        previous = offset
    bpms = array("B", (bpm for _, bpm in samples))
    header = array("I", [len(samples)])
    return zlib.compress(header.tobytes() + deltas.tobytes() + bpms.tobytes(), 6)


def unpack_heart_rate(blob: bytes) -> list[tuple[int, int]]:
    raw = zlib.decompress(blob)
    count = array("I", raw[:4])[0]
    deltas = array("I", raw[4 : 4 + 4 * count])
    bpms = array("B", raw[4 + 4 * count : 4 + 5 * count])
    out: list[tuple[int, int]] = []
    offset = 0
    for delta, bpm in zip(deltas, bpms, strict=True):
        offset += delta
        out.append((offset, bpm))
    return out


# --- summaries ---------------------------------------------------------------------------


def _zones(birth_year: int | None, now: datetime) -> list[tuple[int, int, int]] | None:
    if birth_year is None:
        return None
    age = max(0, now.year - birth_year)
    hr_max = 208 - 0.7 * age
    return [
        (zone + 1, round(hr_max * ZONE_BOUNDS[zone]), round(hr_max * ZONE_BOUNDS[zone + 1]))
        for zone in range(5)
    ]


def summarise(
    started_at: datetime,
    ended_at: datetime,
    samples: Sequence[tuple[int, int]],
    reps: Iterable[dict[str, Any]],
    energy_kcal: float | None,
    birth_year: int | None,
    now: datetime,
) -> WearableSummary:
    heart: HeartRateSummary | None = None
    zones_out: list[ZoneSeconds] | None = None
    zones = _zones(birth_year, now)
    if samples:
        bpms = [b for _, b in samples]
        heart = HeartRateSummary(
            min=min(bpms), avg=round(sum(bpms) / len(bpms), 1), max=max(bpms), samples=len(bpms)
        )
        if zones is not None:
            seconds = dict.fromkeys(range(1, 6), 0)
            for index, (offset, bpm) in enumerate(samples):
                following = samples[index + 1][0] if index + 1 < len(samples) else offset + 1
                span = min(following - offset, MAX_SAMPLE_GAP_SECONDS)
                for zone, low, high in zones:
                    if low <= bpm < high or (zone == 5 and bpm >= high):
                        seconds[zone] += span
                        break
            zones_out = [
                ZoneSeconds(zone=z, low_bpm=low, high_bpm=high, seconds=seconds[z])
                for z, low, high in zones
            ]
    totals: dict[str, int] = defaultdict(int)
    for event in reps:
        totals[event.get("exercise_slug") or "unknown"] += int(event["count"])
    return WearableSummary(
        duration_seconds=int((ended_at - started_at).total_seconds()),
        heart_rate=heart,
        zones=zones_out,
        reps=dict(sorted(totals.items())),
        energy_kcal=energy_kcal,
    )


def combine(summaries: Sequence[WearableSummary]) -> WearableSummary | None:
    """One session's summary from its uploads' summaries (no samples re-read)."""
    if not summaries:
        return None
    hearts = [s.heart_rate for s in summaries if s.heart_rate]
    heart = None
    if hearts:
        count = sum(h.samples for h in hearts)
        heart = HeartRateSummary(
            min=min(h.min for h in hearts),
            max=max(h.max for h in hearts),
            avg=round(sum(h.avg * h.samples for h in hearts) / count, 1),
            samples=count,
        )
    zoned = [s.zones for s in summaries if s.zones]
    zones = None
    if zoned:
        zones = [
            ZoneSeconds(
                zone=z.zone,
                low_bpm=z.low_bpm,
                high_bpm=z.high_bpm,
                seconds=sum(zs[i].seconds for zs in zoned),
            )
            for i, z in enumerate(zoned[0])
        ]
    reps: dict[str, int] = defaultdict(int)
    for s in summaries:
        for slug, count in s.reps.items():
            reps[slug] += count
    energy = [s.energy_kcal for s in summaries if s.energy_kcal is not None]
    return WearableSummary(
        duration_seconds=sum(s.duration_seconds for s in summaries),
        heart_rate=heart,
        zones=zones,
        reps=dict(sorted(reps.items())),
        energy_kcal=round(sum(energy), 1) if energy else None,
    )


def session_summaries(
    session: Session, session_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, WearableSummary]:
    """Per session: uploads from one device add up; several devices recording the same
    session are not counted twice (reps and energy: the highest device; duration: the
    span they cover)."""
    if not session_ids:
        return {}
    # Five columns: past sqlmodel's typed select overloads, so the SQLAlchemy one.
    rows = session.execute(
        sa_select(
            col(WearableUpload.session_id),
            col(WearableUpload.device_id),
            col(WearableUpload.started_at),
            col(WearableUpload.ended_at),
            col(WearableUpload.summary),
        ).where(col(WearableUpload.session_id).in_(session_ids))
    ).all()
    by_session: dict[uuid.UUID, dict[str, list[WearableSummary]]] = defaultdict(
        lambda: defaultdict(list)
    )
    spans: dict[uuid.UUID, tuple[datetime, datetime]] = {}
    for sid, device_id, started, ended, summary in rows:
        if sid is None:
            continue
        by_session[sid][str(device_id)].append(WearableSummary.model_validate(summary))
        lo, hi = spans.get(sid, (started, ended))
        spans[sid] = (min(lo, started), max(hi, ended))
    out: dict[uuid.UUID, WearableSummary] = {}
    for sid, devices in by_session.items():
        per_device = [c for items in devices.values() if (c := combine(items)) is not None]
        merged = combine(per_device)
        if merged is None:
            continue
        if len(per_device) > 1:
            lo, hi = spans[sid]
            slugs = {slug for d in per_device for slug in d.reps}
            energies = [d.energy_kcal for d in per_device if d.energy_kcal is not None]
            merged = merged.model_copy(
                update={
                    "duration_seconds": int((hi - lo).total_seconds()),
                    "reps": {
                        slug: max(d.reps.get(slug, 0) for d in per_device) for slug in sorted(slugs)
                    },
                    "energy_kcal": max(energies) if energies else None,
                }
            )
        out[sid] = merged
    return out


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
        errors = []
        for err in exc.errors()[:20]:
            field = ".".join(str(p) for p in err["loc"]) or "body"
            errors.append((field, str(err["msg"])))
        raise FieldError(errors) from exc


def request_hash(upload: UploadIn) -> str:
    return hashlib.sha256(upload.model_dump_json().encode()).hexdigest()


def _check(session: Session, user_id: uuid.UUID, upload: UploadIn, now: datetime) -> None:
    errors: list[tuple[str, str]] = []
    if upload.ended_at <= upload.started_at:
        errors.append(("ended_at", "must be after started_at"))
    elif upload.ended_at - upload.started_at > MAX_RECORDING:
        errors.append(("ended_at", "a recording cannot last more than 24 hours"))
    if upload.started_at > now + CLOCK_SKEW:
        errors.append(("started_at", "is in the future; check the device's clock"))
    if len(upload.heart_rate) > MAX_HEART_RATE_SAMPLES:
        errors.append(("heart_rate", f"at most {MAX_HEART_RATE_SAMPLES} samples per upload"))
    if len(upload.reps) > MAX_REP_EVENTS:
        errors.append(("reps", f"at most {MAX_REP_EVENTS} events per upload"))
    lo, hi = upload.started_at, upload.ended_at
    for index, sample in enumerate(upload.heart_rate):
        if not lo <= sample.t <= hi:
            errors.append((f"heart_rate.{index}.t", "is outside started_at..ended_at"))
            break
    for index, event in enumerate(upload.reps):
        if not lo <= event.t <= hi:
            errors.append((f"reps.{index}.t", "is outside started_at..ended_at"))
            break
    slugs = {e.exercise_slug for e in upload.reps if e.exercise_slug}
    if slugs:
        known = set(session.exec(select(Exercise.slug).where(col(Exercise.slug).in_(slugs))).all())
        unknown = sorted(slugs - known)
        if unknown:
            errors.append(("reps", f"unknown exercise(s): {', '.join(unknown)}"))
    if upload.session_id is not None:
        owner = session.exec(
            select(TrainingSession.user_id).where(TrainingSession.id == upload.session_id)
        ).first()
        if owner != user_id:
            errors.append(("session_id", "no such session of yours"))
    if errors:
        raise FieldError(errors)


# --- idempotency -------------------------------------------------------------------------


def claim_key(
    session: Session, device_id: uuid.UUID, key: str, digest: str, now: datetime
) -> IdempotencyKey:
    """Take the key for this request, or explain why not (replay, 409, 422)."""
    for _ in range(2):
        existing = session.get(IdempotencyKey, (device_id, key))
        if existing is not None and existing.expires_at <= now:
            session.delete(existing)
            session.commit()
            existing = None
        if existing is not None:
            if existing.request_hash != digest:
                raise IdempotencyKeyReused(
                    "This Idempotency-Key was used with a different body; use a new key for "
                    "new data."
                )
            if existing.in_flight or existing.response_body is None:
                if now - existing.created_at > IN_FLIGHT_LEASE:
                    taken = session.exec(
                        update(IdempotencyKey)
                        .where(
                            col(IdempotencyKey.device_id) == device_id,
                            col(IdempotencyKey.key) == key,
                            col(IdempotencyKey.created_at) == existing.created_at,
                        )
                        .values(created_at=now)
                    )
                    session.commit()
                    if taken.rowcount == 1:
                        session.refresh(existing)
                        return existing
                raise Conflict(
                    "A request with this Idempotency-Key is still being processed; retry "
                    "in a moment.",
                    retry_after=1,
                )
            raise Replay(existing.response_status or 201, existing.response_body)
        row = IdempotencyKey(
            device_id=device_id,
            key=key,
            request_hash=digest,
            in_flight=True,
            created_at=now,
            expires_at=now + IDEMPOTENCY_TTL,
        )
        session.add(row)
        try:
            # Committed at once, so a concurrent twin sees it and gets 409 or a replay.
            session.commit()
            return row
        except IntegrityError:
            session.rollback()
    raise Conflict("A request with this Idempotency-Key is still being processed; retry.")


def release_key(session: Session, device_id: uuid.UUID, key: str) -> None:
    """The request failed before storing anything: the key may be used again."""
    session.rollback()
    row = session.get(IdempotencyKey, (device_id, key))
    if row is not None and row.in_flight:
        session.delete(row)
        session.commit()


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
    key: IdempotencyKey,
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


def _merge_and_store(
    session: Session,
    device: Device,
    user: User,
    upload: UploadIn,
    key: IdempotencyKey,
    now: datetime,
) -> UploadResult:
    match = (
        col(WearableUpload.device_id) == device.id,
        col(WearableUpload.device_session_id) == upload.device_session_id,
    )
    # Take the recording's row lock before reading it (a no-op write works on SQLite and
    # PostgreSQL alike), so concurrent uploads of one recording merge one after another.
    session.exec(update(WearableUpload).where(*match).values(updated_at=WearableUpload.updated_at))
    row = session.exec(select(WearableUpload).where(*match)).first()
    started = min(upload.started_at, row.started_at) if row else upload.started_at
    ended = max(upload.ended_at, row.ended_at) if row else upload.ended_at
    # Whole seconds from a whole-second start: two samples share a key only when they
    # fall in the same second.
    started = started.replace(microsecond=0)
    if ended - started > MAX_RECORDING:
        raise FieldError(
            [("ended_at", "merged with earlier uploads the recording passes 24 hours")]
        )
    # Seconds precision; a second already stored keeps its first value.
    samples: dict[int, int] = {}
    if row is not None:
        for offset, bpm in unpack_heart_rate(row.heart_rate):
            samples[_seconds(row.started_at + timedelta(seconds=offset), started)] = bpm
    for sample in upload.heart_rate:
        samples.setdefault(_seconds(sample.t, started), sample.bpm)
    ordered = sorted(samples.items())
    if len(ordered) > MAX_HEART_RATE_SAMPLES:
        raise PayloadTooLarge(
            f"Merged with earlier uploads the recording passes {MAX_HEART_RATE_SAMPLES} samples."
        )
    events: dict[tuple[int, str], dict[str, Any]] = {}
    for event in [*(row.reps if row else []), *(e.model_dump(mode="json") for e in upload.reps)]:
        at = datetime.fromisoformat(event["t"])
        events.setdefault((_seconds(at, started), event.get("exercise_slug") or ""), event)
    reps = [events[k] for k in sorted(events)]
    energy = (
        upload.energy_kcal if upload.energy_kcal is not None else (row.energy_kcal if row else None)
    )
    matched = upload.session_id or (row.session_id if row else None)
    if matched is None:
        matched = _match_session(session, device.user_id, started, ended)
    summary = summarise(started, ended, ordered, reps, energy, user.birth_year, now)
    if row is None:
        row = WearableUpload(
            user_id=device.user_id,
            device_id=device.id,
            device_session_id=upload.device_session_id,
            started_at=started,
            ended_at=ended,
            received_at=now,
            heart_rate=b"",
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
    session.add(row)
    session.flush()
    result = UploadResult(id=row.id, matched_session_id=matched, summary=summary)
    key.in_flight = False
    key.response_status = 201
    key.response_body = result.model_dump(mode="json")
    session.add(key)
    session.commit()
    return result


def list_uploads(
    session: Session, user: User, *, matched: bool | None, limit: int, cursor: str | None
) -> tuple[list[UploadPublic], str | None]:
    stmt = select(WearableUpload).where(WearableUpload.user_id == user.id)
    if matched is True:
        stmt = stmt.where(col(WearableUpload.session_id).is_not(None))
    elif matched is False:
        stmt = stmt.where(col(WearableUpload.session_id).is_(None))
    rows, next_cursor = keyset_page(
        session,
        stmt,
        time_col=WearableUpload.started_at,
        id_col=WearableUpload.id,
        limit=limit,
        cursor=cursor,
        descending=True,
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
        )
        for r in rows
    ], next_cursor
