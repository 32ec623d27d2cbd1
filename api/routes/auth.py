"""Sign-up, sign-in (OAuth2 password flow), token rotation and sign-out."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import Clock, HashPoolDep, PasswordsDep, SessionDep, SettingsDep, client_address
from api.errors import FieldError
from api.problems import problem_responses
from api.schemas.accounts import RefreshIn, RegisterIn, RegistrationAccepted, TokenPair
from api.schemas.common import NUL_MESSAGE
from api.schemas.types import EMAIL_MAX
from api.services import accounts

router = APIRouter(prefix="/v1/auth", tags=["auth"])

# Token responses must never be cached (RFC 6749 section 5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.post(
    "/register",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Create an account",
    description=(
        "Answers 202 with the same body whether or not the address already had an "
        "account, so that nobody learns from it who is registered; a message goes to the "
        "address either way (a welcome, or a note that someone tried to register it "
        "again). A new account can sign in at once. Registrations count per client "
        "address (`BACKSTRONG_REGISTER_MAX_PER_ADDRESS` within "
        "`BACKSTRONG_LOGIN_FAILURE_WINDOW_MINUTES`): past that, 429 with `Retry-After`."
    ),
    responses=problem_responses(422, 429),
)
async def register(
    body: RegisterIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    passwords: PasswordsDep,
    clock: Clock,
    hashing: HashPoolDep,
) -> RegistrationAccepted:
    # Hashing runs in its own low-priority pool, never on the event loop.
    return await hashing.run(
        partial(
            accounts.register,
            session,
            passwords,
            settings,
            body,
            address=client_address(request),
            now=clock(),
        )
    )


@router.post(
    "/token",
    summary="Sign in (OAuth2 password flow: username is the email)",
    description=(
        "Public. Send a form (`application/x-www-form-urlencoded`) with `username` (the "
        "email) and `password`; the answer holds an access token for `Authorization: "
        "Bearer` (valid `expires_in` seconds) and a refresh token for POST /v1/auth/refresh. "
        "A wrong email or password is 401 `invalid-credentials`; after repeated failures "
        "(for the account, or from the client address) the answer is 429 with `Retry-After`."
    ),
    responses=problem_responses(401, 422, 429),
)
async def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    passwords: PasswordsDep,
    clock: Clock,
    hashing: HashPoolDep,
) -> TokenPair:
    wrong = [
        (name, NUL_MESSAGE, "not_allowed")
        for name in ("username", "password")
        if "\x00" in getattr(form, name)
    ]
    if len(form.username) > EMAIL_MAX:
        wrong.append(
            ("username", f"an email address has at most {EMAIL_MAX} characters", "too_long")
        )
    if wrong:
        raise FieldError(wrong)
    address = client_address(request)
    pair = await hashing.run(
        partial(
            accounts.login,
            session,
            passwords,
            settings,
            email=form.username,
            password=form.password,
            address=address,
            now=clock(),
        )
    )
    response.headers.update(NO_STORE)
    return pair


@router.post(
    "/refresh",
    summary="Swap a refresh token for a new pair; the old one stops working",
    description=(
        "Public: the refresh token in the body is the credential. The same token sent again "
        "within 30 seconds of its rotation (a lost response, two refreshes at once) gets the "
        "same new pair; reused later, it is taken as stolen and its whole sign-in ends. An "
        "unknown, expired, revoked or reused token is 401: sign in again."
    ),
    responses=problem_responses(401, 422),
)
def refresh_tokens(
    body: RefreshIn, response: Response, session: SessionDep, settings: SettingsDep, clock: Clock
) -> TokenPair:
    pair = accounts.refresh(session, settings, body.refresh_token, clock())
    response.headers.update(NO_STORE)
    return pair


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a refresh token and every token rotated from it",
    description=(
        "Public: the refresh token in the body is the credential. Ends its sign-in: its "
        "refresh tokens stop working and its access tokens are refused (401) at once. An "
        "unknown or already revoked token is 204 too, so a retry is safe."
    ),
    responses=problem_responses(422),
)
def logout(body: RefreshIn, session: SessionDep, clock: Clock) -> None:
    accounts.logout(session, body.refresh_token, clock())
