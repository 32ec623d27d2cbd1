"""The caller's own account: profile, devices, data export and erasure."""

from __future__ import annotations

import uuid
from functools import partial

from fastapi import APIRouter, Request, Response, status

from api.conditional import ETAG_RESPONSES, IF_NONE_MATCH_DOC, conditional
from api.deps import (
    CatalogDep,
    Clock,
    CurrentUser,
    HashPoolDep,
    PasswordsDep,
    SessionDep,
    SettingsDep,
    client_address,
)
from api.links import answer_create, links
from api.pagination import DEFAULT_LIMIT
from api.problems import problem_responses
from api.routes.auth import NO_STORE
from api.routes.params import SINCE_DOC, Cursor, Limit, Since
from api.schemas.accounts import (
    AccountExport,
    DeleteAccountIn,
    DeviceCreate,
    DeviceCreated,
    DevicePage,
    DevicePublic,
    ProfilePatch,
    UserPublic,
)
from api.schemas.common import Removed
from api.schemas.screening import ScreeningIn, ScreeningResult
from api.services import account_data, accounts, devices, screening

router = APIRouter(prefix="/v1/me", tags=["me"], responses=problem_responses(401))


@router.get(
    "",
    summary="My profile",
    description=IF_NONE_MATCH_DOC,
    response_model=UserPublic,
    responses=ETAG_RESPONSES,
)
def get_me(request: Request, user: CurrentUser) -> Response:
    return conditional(request, accounts.public_user(user))


@router.patch(
    "",
    summary="Update my profile",
    description=(
        "Person token. Changes only the fields sent: `display_name` and `birth_year` can be "
        "cleared with null; `equipment`, `session_minutes` and `timezone` cannot (leave them "
        "out to keep them). Unknown equipment, a `birth_year` less than 5 years ago, or "
        "clearing `birth_year` once the screening is answered is 422 naming the field."
    ),
    responses=problem_responses(422),
)
def patch_me(
    body: ProfilePatch, user: CurrentUser, session: SessionDep, clock: Clock
) -> UserPublic:
    return accounts.public_user(accounts.update_profile(session, user, body, clock()))


@router.get(
    "/screening",
    summary="My screening answers and what they rule out",
    description=(
        "`screening` is null until answered; `gates` says why no session can be built yet "
        "(`screening_required` first). Reading it writes nothing."
    ),
)
def get_screening(
    user: CurrentUser, session: SessionDep, clock: Clock, catalog: CatalogDep
) -> ScreeningResult:
    return screening.get_screening(session, user, catalog.rule_catalog, clock())


@router.put(
    "/screening",
    summary="Answer (or update) the screening before exercising",
    description=(
        "Every answer is required. Replaces the screen in force (earlier answers stay in "
        "the export) and re-evaluates the advice at once. `excluded` lists the exercises "
        "now left out and why; `limited` those kept at a limited dose; linked clinicians "
        "are alerted when an exercise they cleared is now ruled out."
    ),
    responses=problem_responses(422),
)
def put_screening(
    body: ScreeningIn, user: CurrentUser, session: SessionDep, clock: Clock, catalog: CatalogDep
) -> ScreeningResult:
    return screening.put_screening(session, user, body, catalog.rule_catalog, clock())


@router.get(
    "/export",
    summary="Everything stored about me",
    description=(
        "Person token. One JSON document, not paginated: profile, devices, sign-ins and "
        "failed ones, messages, check-ins, advice, thresholds, routine and dose changes, "
        "sessions, wearable uploads with their samples, clinician links, plans, actions and "
        "alerts, screenings and tombstones; `as_clinician` holds what the caller did as a "
        "clinician. Reading it changes nothing."
    ),
)
def export_me(user: CurrentUser, session: SessionDep, clock: Clock) -> AccountExport:
    return account_data.export_account(session, user, clock())


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Erase my account and all its data (password required)",
    description="A wrong password counts with sign-in's failures for the account and the "
    "client address: at the same limits the answer is 429 with Retry-After, here and at "
    "sign-in.",
    responses=problem_responses(403, 422, 429),
)
async def delete_me(
    body: DeleteAccountIn,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    passwords: PasswordsDep,
    settings: SettingsDep,
    clock: Clock,
    hashing: HashPoolDep,
) -> None:
    await hashing.run(
        partial(
            account_data.delete_account,
            session,
            passwords,
            settings,
            user,
            body.password.get_secret_value(),
            address=client_address(request),
            now=clock(),
        )
    )


@router.post(
    "/devices",
    status_code=status.HTTP_201_CREATED,
    summary="Register a wearable; its token is shown only in this response",
    description=(
        "Person token. The device token in the answer works only for POST "
        "/v1/wearable/uploads: store it on the device. With a client-generated `id`, the same "
        "id and name again within 5 minutes is a retry (201, the same device and token, "
        "marked `Idempotent-Replayed: true`); the "
        "id with another name, or after those 5 minutes, is 409 `client-id-reused` (revoke "
        "the device and register anew)."
    ),
    responses={
        201: links("/id", "device_id", "deleteDevice", replays=True),
        **problem_responses(409, 422),
    },
)
def create_device(
    body: DeviceCreate,
    response: Response,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    clock: Clock,
) -> DeviceCreated:
    device, token, created = devices.create_device(
        session, user, body.name, clock(), client_id=body.id, secret=settings.secret_key
    )
    answer_create(response, f"/v1/me/devices/{device.id}", created)
    response.headers.update(NO_STORE)
    return DeviceCreated(
        **DevicePublic.model_validate(device, from_attributes=True).model_dump(), token=token
    )


@router.get(
    "/devices",
    summary="My wearables; `since` (on `updated_at`) for delta sync, with revoked ones",
    description=SINCE_DOC,
    responses=problem_responses(422),
)
def list_devices(
    user: CurrentUser,
    session: SessionDep,
    since: Since = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> DevicePage:
    items, gone, next_cursor = devices.list_devices(
        session, user, since=since, limit=limit, cursor=cursor
    )
    return DevicePage(
        items=[DevicePublic.model_validate(d, from_attributes=True) for d in items],
        deleted=[Removed.model_validate(t) for t in gone],
        next_cursor=next_cursor,
    )


@router.delete(
    "/devices/{device_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a wearable's token",
    description=(
        "Person token. The device's token is refused (401) from its next upload; its uploads "
        "stay, no longer tied to a device. The device is listed in `deleted` by a "
        "GET /v1/me/devices delta; another person's device or an unknown id is 404."
    ),
    responses=problem_responses(404),
)
def delete_device(
    device_id: uuid.UUID, user: CurrentUser, session: SessionDep, clock: Clock
) -> None:
    devices.delete_device(session, user, device_id, clock())
