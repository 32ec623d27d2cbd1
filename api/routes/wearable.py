"""Wearable uploads (device token only), platform imports (device or person token) and the
person's view of them."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.body import read_json_body
from api.deps import (
    CatalogDep,
    Clock,
    CurrentUser,
    DeviceAuth,
    Importer,
    ImporterAuth,
    SessionDep,
)
from api.errors import BadRequest
from api.links import REPLAY_HEADER, REPLAYED
from api.models import Device
from api.pagination import DEFAULT_LIMIT
from api.problems import problem_responses
from api.routes.params import Cursor, Limit, Since
from api.schemas.health_imports import HealthConnectImport, ImportResult
from api.schemas.healthkit import HealthKitImport
from api.schemas.wearable import UploadIn, UploadPage, UploadResult
from api.services import health_imports, idempotency_keys, wearable
from api.services.catalog_snapshot import Snapshot
from api.services.health_platforms import load_platform_maps
from api.services.store import bulk_body_digest

router = APIRouter(tags=["wearable"])

# Compressed or not, a body may be this large as sent...
MAX_UPLOAD_BYTES = 8 * 1024 * 1024
# ...and this large once inflated: a day of 1 Hz samples is about 4.5 MB of JSON, and
# parsing is bounded by this (about 40x in memory while it lasts).
MAX_UPLOAD_INFLATED = 6 * 1024 * 1024


def _body_of(schema: str) -> dict[str, Any]:
    """A body the route reads itself (to inflate it), as the document names it."""
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


DEVICE_WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"headers": dict(REPLAYED)},
    **problem_responses(400, 401, 409, 413, 415, 422),
}
ImportKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="Unique per import; reuse it on retries."),
]


@router.post(
    "/v1/wearable/uploads",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadResult,
    summary="Upload a recorded session (device token; Idempotency-Key required)",
    description=(
        "Retry freely with the same `Idempotency-Key`: the same key and body replay the "
        f"first answer (with `{REPLAY_HEADER}: true`), the same key with another body is "
        "422, and a retry while the first is still being stored is 409. Keys last 24 "
        "hours. `Content-Encoding: gzip` is accepted. Samples with the same second are "
        "kept once, and uploads with the same `device_session_id` merge."
    ),
    openapi_extra=_body_of("UploadIn"),
    responses=DEVICE_WRITE_RESPONSES,
)
async def create_upload(
    request: Request,
    device: DeviceAuth,
    session: SessionDep,
    clock: Clock,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", description="Unique per upload; reuse it on retries."),
    ] = None,
) -> JSONResponse:
    return await _idempotent(
        request, device.user_id, device, session, clock, idempotency_key, wearable.parse,
        lambda parsed, claimed, now: wearable.store_upload(session, device, parsed, claimed, now),
        wearable.request_hash,
    )  # fmt: skip


async def _idempotent(
    request: Request,
    user_id: uuid.UUID,
    device: Device | None,
    session: Session,
    clock: Callable[[], datetime],
    idempotency_key: str | None,
    parse: Callable[[bytes], Any],
    store: Callable[[Any, idempotency_keys.KeyRow, datetime], BaseModel],
    digest: Callable[[Any], str],
) -> JSONResponse:
    """A write under an Idempotency-Key (the device's keys, or with no device the
    person's): parse, claim the key, store, answer; a retry of the same request replays
    the first answer."""
    if not idempotency_key or len(idempotency_key) > idempotency_keys.MAX_KEY_LENGTH:
        raise BadRequest(
            "Send an Idempotency-Key header (1-255 characters), the same on every retry.",
            extra={
                "errors": [
                    {
                        "field": "Idempotency-Key",
                        "in": "header",
                        "code": "missing" if not idempotency_key else "string_too_long",
                        "message": "required, 1-255 characters",
                    }
                ]
            },
        )
    raw = await read_json_body(
        request, max_bytes=MAX_UPLOAD_BYTES, max_decompressed=MAX_UPLOAD_INFLATED
    )
    key = idempotency_key

    def work() -> tuple[int, dict[str, object], bool]:
        # Read now: a failed flush expires every loaded object, and reloading one from a
        # session awaiting rollback raises (a 500 instead of the error that happened).
        scope = idempotency_keys.KeyScope.of(device.id if device else None, user_id)
        parsed = parse(raw)
        now = clock()
        try:
            claimed = idempotency_keys.claim_key(session, scope, key, digest(parsed), now)
        except idempotency_keys.Replay as replay:
            return replay.status, replay.body, True
        try:
            result = store(parsed, claimed, now)
        except BaseException:
            # When the database went away, releasing fails too and the key waits out its
            # in-flight lease; the client is told about the first failure either way.
            with contextlib.suppress(SQLAlchemyError):
                idempotency_keys.release_key(session, scope, key)
            raise
        return 201, result.model_dump(mode="json"), False

    code, body, replayed = await run_in_threadpool(work)
    return JSONResponse(body, status_code=code, headers={REPLAY_HEADER: "true"} if replayed else {})


async def _import(
    request: Request,
    importer: Importer,
    session: Session,
    clock: Callable[[], datetime],
    catalog: Snapshot,
    idempotency_key: str | None,
    parse: Callable[[bytes], Any],
    store: Callable[..., ImportResult],
) -> JSONResponse:
    """A platform's import under an Idempotency-Key, from a device or the person's app."""
    maps = load_platform_maps()
    return await _idempotent(
        request, importer.user_id, importer.device, session, clock, idempotency_key, parse,
        lambda parsed, claimed, now: store(
            session, importer.user_id, importer.device, parsed, claimed, maps,
            catalog.rule_catalog, now,
        ),
        bulk_body_digest,
    )  # fmt: skip


@router.post(
    "/v1/wearable/imports/health-connect",
    status_code=status.HTTP_201_CREATED,
    response_model=ImportResult,
    summary="Import an exercise session as Health Connect records it (person or device "
    "token; Idempotency-Key required)",
    description=(
        "The JSON of one `ExerciseSessionRecord` (`exerciseSession`) and the "
        "`HeartRateRecord`s around it (`heartRate`), with the androidx records' property "
        "names; exercise and segment types by name, never by number. Stored as an upload "
        "is (summary, session matching), with the record's id, exercise type, zone "
        "offsets and segments. The record's `metadata.id` is its identity: importing it "
        "again (after an edit), under any Idempotency-Key or device, updates the same "
        "recording to the record as it is now. Segment types "
        "map to catalog exercises (their repetitions count in the summary); one not "
        "mapped is kept and listed in `unmapped_segment_types`. With no logged session "
        "at its time, it matches the latest unlogged session built from a day before "
        "it began up to its end that plans an exercise its segments counted, and those "
        "repetitions become that session's log (`log_filled`; one set per segment, no "
        "pain recorded, so no step up), never over a log the person sent; their own "
        "log later replaces it without If-Match. A session of a type "
        "Backstrong sessions are not recorded as is stored with `matched_session_id: "
        "null` and `unmatched_reason`. Heart-rate samples outside the session or outside "
        "20-250 beats per minute are left out and counted in `dropped_samples`. Retries "
        "with the same key and body replay the first answer; `Content-Encoding: gzip` is "
        "accepted."
    ),
    openapi_extra=_body_of("HealthConnectImport"),
    responses=DEVICE_WRITE_RESPONSES,
)
async def import_health_connect(
    request: Request,
    importer: ImporterAuth,
    session: SessionDep,
    clock: Clock,
    catalog: CatalogDep,
    idempotency_key: ImportKey = None,
) -> JSONResponse:
    return await _import(
        request, importer, session, clock, catalog, idempotency_key,
        health_imports.parse_health_connect, health_imports.import_health_connect,
    )  # fmt: skip


@router.get(
    "/v1/me/uploads",
    summary="My wearable uploads, newest first; matched=false lists those with no session; "
    "`since` (on `updated_at`) for delta sync",
    description=(
        "Person token (a device token is refused). Without `since`, newest recording first; "
        "with it, uploads stored or changed at or after it (matched to a session, merged with "
        "a later upload of the recording, their device revoked), oldest change first. Uploads "
        "are never deleted (but with the account); `since` with `matched` is 422: sync the "
        "whole list and filter on the device."
    ),
    responses=problem_responses(401, 422),
)
def list_uploads(
    user: CurrentUser,
    session: SessionDep,
    matched: Annotated[
        bool | None,
        Query(
            description="`true`: only uploads matched to a session; `false`: only those "
            "matched to none. Cannot be combined with `since`."
        ),
    ] = None,
    since: Since = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> UploadPage:
    items, next_cursor = wearable.list_uploads(
        session, user, matched=matched, since=since, limit=limit, cursor=cursor
    )
    return UploadPage(items=items, next_cursor=next_cursor)


@router.post(
    "/v1/wearable/imports/healthkit",
    status_code=status.HTTP_201_CREATED,
    response_model=ImportResult,
    summary="Import a workout as HealthKit records it (person or device token; Idempotency-Key "
    "required)",
    description=(
        "An `HKWorkout` as JSON (`workout`: `uuid`, `workoutActivityType` by name, "
        "`startDate`, `endDate`, `duration`, `totalEnergyBurned`, `metadata` with "
        "`HKTimeZone`, `workoutActivities`) and the heart-rate `HKQuantitySample`s of its "
        "time (`heartRate`, in `count/min`). Stored as an upload is, with the workout's "
        "uuid, activity type and the time zone's offsets at its start and end. The uuid "
        "is its identity: importing it again, under any Idempotency-Key, merges into the "
        "same recording. HealthKit records no per-exercise segments, so reps come from "
        "the app's log. A workout of a type Backstrong sessions are not recorded as is "
        "stored with `matched_session_id: null` and `unmatched_reason`; samples outside "
        "the workout or 20-250 beats per minute are left out and counted. Retries with "
        "the same key and body replay the first answer; `Content-Encoding: gzip` is "
        "accepted."
    ),
    openapi_extra=_body_of("HealthKitImport"),
    responses=DEVICE_WRITE_RESPONSES,
)
async def import_healthkit(
    request: Request,
    importer: ImporterAuth,
    session: SessionDep,
    clock: Clock,
    catalog: CatalogDep,
    idempotency_key: ImportKey = None,
) -> JSONResponse:
    return await _import(
        request, importer, session, clock, catalog, idempotency_key,
        health_imports.parse_healthkit, health_imports.import_healthkit,
    )  # fmt: skip


# Referenced by the request body schema above, so it appears in the OpenAPI document.
__all__ = ["HealthConnectImport", "HealthKitImport", "UploadIn", "router"]
