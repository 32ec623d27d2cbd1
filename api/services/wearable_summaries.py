"""Heart-rate samples packed for storage, and the summaries computed from them: per
upload (when stored), per session (uploads added up, devices not counted twice)."""

from __future__ import annotations

import uuid
import zlib
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from api.models import WearableUpload
from api.schemas.wearable import HeartRateSummary, WearableSummary, ZoneSeconds

# A sample stands for the time until the next one, up to this (sensors drop out).
MAX_SAMPLE_GAP_SECONDS = 5
# Tanaka, Monahan & Seals 2001: age-predicted maximum heart rate = 208 - 0.7 x age.
ZONE_BOUNDS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


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
    # Seven columns: past sqlmodel's typed select overloads, so the SQLAlchemy one.
    rows = session.execute(
        sa_select(
            col(WearableUpload.id),
            col(WearableUpload.session_id),
            col(WearableUpload.device_id),
            col(WearableUpload.source),
            col(WearableUpload.started_at),
            col(WearableUpload.ended_at),
            col(WearableUpload.summary),
        ).where(col(WearableUpload.session_id).in_(session_ids))
    ).all()
    by_session: dict[uuid.UUID, dict[str, list[WearableSummary]]] = defaultdict(
        lambda: defaultdict(list)
    )
    spans: dict[uuid.UUID, tuple[datetime, datetime]] = {}
    for upload_id, sid, device_id, source, started, ended, summary in rows:
        if sid is None:
            continue
        # An upload whose device was revoked no longer says which device made it, and an
        # import names the phone that sent it, not the watch that recorded it (the
        # platform may hold the workout twice, from two apps): each is taken as a device
        # of its own (never added to another's, which would count twice).
        recorder = (
            str(device_id)
            if device_id is not None and source == "upload"
            else f"upload:{upload_id}"
        )
        by_session[sid][recorder].append(WearableSummary.model_validate(summary))
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
