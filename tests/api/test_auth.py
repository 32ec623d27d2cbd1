"""Registration, sign-in, token rotation, sign-out and access-token checks."""

from __future__ import annotations

import asyncio
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from api.deps import get_clock
from api.main import create_app
from api.models import LoginFailure, OutboxMessage, RefreshToken, User
from api.security import Passwords
from tests.conftest import (
    TEST_SECRET,
    Account,
    AccountFactory,
    FakeClock,
    sign_in,
)
from tests.conftest import (
    test_settings as settings_with,
)


def test_registering_creates_an_account_that_signs_in_at_once(client: TestClient) -> None:
    response = client.post(
        "/v1/auth/register",
        json={"email": "Sam@Example.COM", "password": "long-enough-pw", "display_name": " Sam "},
    )
    assert response.status_code == 202
    assert set(response.json()) == {"email", "detail"}
    assert response.json()["email"] == "sam@example.com"
    assert "long-enough-pw" not in response.text
    token = sign_in(client, "SAM@example.com", "long-enough-pw").json()["access_token"]
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert set(me) == {
        "id",
        "email",
        "display_name",
        "role",
        "equipment",
        "session_minutes",
        "timezone",
        "birth_year",
        "created_at",
        "updated_at",
    }
    assert me["email"] == "sam@example.com"
    assert me["display_name"] == "Sam"
    assert me["role"] == "user"
    assert me["timezone"] == "UTC"


def _outbox(db: Engine) -> list[tuple[str, str]]:
    with Session(db) as s:
        rows = s.exec(select(OutboxMessage).order_by(col(OutboxMessage.created_at))).all()
        return [(m.recipient, m.kind) for m in rows]


def test_registration_does_not_tell_whether_an_address_has_an_account(
    client: TestClient, db: Engine, clock: FakeClock
) -> None:
    # Issue 18, finding 1: a registered address used to answer 409 at once.
    first = client.post("/v1/auth/register", json={"email": "a@example.com", "password": "x" * 10})
    clock.advance(seconds=1)
    again = client.post("/v1/auth/register", json={"email": "A@EXAMPLE.com", "password": "y" * 10})
    fresh = client.post("/v1/auth/register", json={"email": "b@example.com", "password": "y" * 10})
    assert first.status_code == again.status_code == fresh.status_code == 202
    assert again.headers["content-type"] == fresh.headers["content-type"]
    # The same body, but for the address it names.
    assert again.json() == first.json()
    assert fresh.json() == {
        k: v.replace("a@example.com", "b@example.com") for k, v in first.json().items()
    }
    with Session(db) as s:
        assert len(s.exec(select(User)).all()) == 2
    # The owner keeps the account and password; the address is told either way.
    assert sign_in(client, "a@example.com", "x" * 10).status_code == 200
    assert sign_in(client, "a@example.com", "y" * 10).status_code == 401
    assert _outbox(db) == [
        ("a@example.com", "welcome"),
        ("a@example.com", "already-registered"),
        ("b@example.com", "welcome"),
    ]


def test_a_registration_that_loses_a_race_answers_like_any_other(
    client: TestClient, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.services import accounts

    body = {"email": "race@example.com", "password": "x" * 12}
    first = client.post("/v1/auth/register", json=body)
    # The other registration commits between this one's look-up and its insert.
    real = accounts.find_user_by_email
    missed: list[bool] = []

    def look_up(*args: Any) -> User | None:
        if not missed:
            missed.append(True)
            return None
        return real(*args)

    monkeypatch.setattr(accounts, "find_user_by_email", look_up)
    lost = client.post("/v1/auth/register", json=body)
    assert (lost.status_code, lost.json()) == (202, first.json())
    assert _outbox(db) == [
        ("race@example.com", "welcome"),
        ("race@example.com", "already-registered"),
    ]


def test_registrations_are_throttled_per_client_address(
    settings: Any, db: Engine, clock: FakeClock
) -> None:
    app = create_app(settings_with(settings.database_url, register_max_per_address=3), engine=db)
    app.dependency_overrides[get_clock] = lambda: clock
    with TestClient(app) as c:

        def register(email: str) -> Any:
            return c.post("/v1/auth/register", json={"email": email, "password": "x" * 12})

        # New and registered addresses count alike: a 429 after registered ones only
        # would tell what the 202 does not.
        assert [register(e).status_code for e in ("a@x.org", "a@x.org", "b@x.org")] == [202] * 3
        refused = register("c@x.org")
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        wait = int(refused.headers["retry-after"])
        assert 0 < wait <= 15 * 60
        with Session(db) as s:
            assert s.exec(select(User).where(User.email == "c@x.org")).first() is None
        assert ("c@x.org", "welcome") not in _outbox(db)
        clock.advance(seconds=wait + 1)
        assert register("c@x.org").status_code == 202


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": "x" * 10}, "email"),
        ({"email": "a@example.com", "password": "short"}, "password"),
        ({"email": "a@example.com", "password": "x" * 129}, "password"),
        ({"email": "a@example.com", "password": "x" * 10, "role": "admin"}, "role"),
        ({"email": "a@example.com", "password": "x" * 10, "user_id": "u"}, "user_id"),
        ({"password": "x" * 10}, "email"),
    ],
)
def test_bad_registration_names_the_field_and_stores_nothing(
    client: TestClient, db: Engine, body: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/auth/register", json=body)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]
    with Session(db) as s:
        assert s.exec(select(User)).all() == []


REUSE_WINDOW = timedelta(seconds=30)  # the default refresh_reuse_seconds


def test_sign_in_refresh_rotation_and_reuse_detection(client: TestClient, clock: FakeClock) -> None:
    created = client.post(
        "/v1/auth/register", json={"email": "pat@example.com", "password": "pat-password-1"}
    )
    assert created.status_code == 202
    # The real OAuth2 form flow, as Swagger UI's Authorize button sends it.
    tokens = client.post(
        "/v1/auth/token",
        data={
            "username": "PAT@example.com",
            "password": "pat-password-1",
            "grant_type": "password",
        },
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert tokens.status_code == 200
    assert tokens.headers["cache-control"] == "no-store"
    pair = tokens.json()
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 15 * 60
    claims = jwt.decode(pair["access_token"], TEST_SECRET, algorithms=["HS256"])
    assert claims["role"] == "user"
    assert {"exp", "iat", "jti"} <= set(claims)

    me = client.get("/v1/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == "pat@example.com"
    assert claims["sub"] == me.json()["id"]

    rotated = client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert rotated.status_code == 200
    new_pair = rotated.json()
    assert new_pair["refresh_token"] != pair["refresh_token"]
    assert (
        client.get(
            "/v1/me", headers={"Authorization": f"Bearer {new_pair['access_token']}"}
        ).status_code
        == 200
    )

    # Past the reuse window the old refresh token stops working...
    clock.advance(seconds=REUSE_WINDOW.total_seconds() + 1)
    reused = client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert reused.status_code == 401
    assert reused.json()["type"] == "/problems/unauthorized"
    # ...and presenting it revoked the whole family, including the newest token.
    stolen = client.post("/v1/auth/refresh", json={"refresh_token": new_pair["refresh_token"]})
    assert stolen.status_code == 401


def test_other_sign_ins_survive_a_family_revocation(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    other = sign_in(client, user.email, user.password).json()
    client.post("/v1/auth/refresh", json={"refresh_token": user.refresh_token})
    clock.advance(minutes=1)
    client.post("/v1/auth/refresh", json={"refresh_token": user.refresh_token})  # reuse
    assert (
        client.post("/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}).status_code
        == 200
    )


def test_logout_revokes(client: TestClient, user: Account) -> None:
    response = client.post("/v1/auth/logout", json={"refresh_token": user.refresh_token})
    assert response.status_code == 204
    after = client.post("/v1/auth/refresh", json={"refresh_token": user.refresh_token})
    assert after.status_code == 401
    # Unknown tokens are accepted silently: logout reveals nothing.
    assert client.post("/v1/auth/logout", json={"refresh_token": "bsr_nope"}).status_code == 204


def test_expired_refresh_token_is_refused(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    clock.advance(days=31)
    response = client.post("/v1/auth/refresh", json={"refresh_token": user.refresh_token})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_wrong_password_and_unknown_email_look_the_same(client: TestClient, user: Account) -> None:
    wrong = sign_in(client, user.email, "not-the-password")
    unknown = sign_in(client, "nobody@example.com", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert wrong.json()["type"] == unknown.json()["type"] == "/problems/invalid-credentials"


def _forge(claims: dict[str, Any], key: str = TEST_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def _claims(user: Account, **changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": user.id,
        "role": "admin",
        "type": "access",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_bad_access_tokens_are_401(client: TestClient, user: Account) -> None:
    past = int((datetime.now(UTC) - timedelta(minutes=1)).timestamp())
    unsigned = jwt.encode(_claims(user), key=None, algorithm="none")
    tokens = {
        "alg none": unsigned,
        "wrong key": _forge(_claims(user), key="another-secret-key-of-enough-length"),
        "expired": _forge(_claims(user, exp=past)),
        "no exp": _forge(_claims(user, exp=None)),
        "no sub": _forge(_claims(user, sub=None)),
        "not a uuid": _forge(_claims(user, sub="admin")),
        "refresh token as access": user.refresh_token,
        "garbage": "abc.def.ghi",
        "other algorithm": _forge(_claims(user), algorithm="HS512"),
        "wrong type": _forge(_claims(user, type="refresh")),
    }
    for name, token in tokens.items():
        response = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
        assert response.headers["www-authenticate"] == "Bearer", name
        assert response.headers["content-type"] == "application/problem+json"
    # A well-formed token with the right key still works (the cases above can fail).
    assert (
        client.get(
            "/v1/me", headers={"Authorization": f"Bearer {_forge(_claims(user))}"}
        ).status_code
        == 200
    )


def test_role_comes_from_the_database_not_the_token(
    client: TestClient, user: Account, make_account: AccountFactory
) -> None:
    # The forged-role token above is accepted as the *user*, never as an admin.
    token = _forge(_claims(user, role="admin"))
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "user"


def test_login_throttling_per_account(client: TestClient, user: Account, clock: FakeClock) -> None:
    for attempt in range(1, 10):
        assert sign_in(client, user.email, f"wrong-{attempt}").status_code == 401, attempt
    tenth = sign_in(client, user.email, "wrong-10")
    assert tenth.status_code == 429
    assert tenth.json()["type"] == "/problems/too-many-requests"
    retry_after = int(tenth.headers["retry-after"])
    assert 0 < retry_after <= 15 * 60
    # Even the right password is refused while locked, with the same kind of answer.
    locked = sign_in(client, user.email, user.password)
    assert locked.status_code == 429
    assert "retry-after" in locked.headers
    clock.advance(seconds=retry_after - 5)
    assert sign_in(client, user.email, user.password).status_code == 429
    clock.advance(seconds=10)
    assert sign_in(client, user.email, user.password).status_code == 200


def test_a_successful_sign_in_resets_the_account_count(client: TestClient, user: Account) -> None:
    for _ in range(9):
        sign_in(client, user.email, "wrong")
    assert sign_in(client, user.email, user.password).status_code == 200
    for _ in range(9):
        assert sign_in(client, user.email, "wrong").status_code == 401


def test_login_throttling_per_client_address(settings: Any, db: Engine, clock: FakeClock) -> None:

    app = create_app(
        settings_with(settings.database_url, login_max_failures_per_address=5), engine=db
    )
    app.dependency_overrides[get_clock] = lambda: clock
    with TestClient(app) as c:
        for n in range(4):
            assert sign_in(c, f"victim{n}@example.com", "guess").status_code == 401
        assert sign_in(c, "victim9@example.com", "guess").status_code == 429


def _from(app: FastAPI, address: str) -> TestClient:
    """A client whose requests come from `address` (as uvicorn gives a trusted proxy's
    X-Forwarded-For)."""
    return TestClient(app, client=(address, 50000))


def _guess(app: FastAPI, email: str, first: int, count: int) -> list[int]:
    """Wrong passwords for `email`, each from its own address."""
    return [
        sign_in(_from(app, f"203.0.113.{n}"), email, "guess").status_code
        for n in range(first, first + count)
    ]


def test_failures_from_elsewhere_slow_an_account_but_never_lock_its_owner_out(
    app: FastAPI, client: TestClient, user: Account, clock: FakeClock
) -> None:
    # Issue 18, finding 8: ten wrong passwords from ten addresses locked the account for
    # 15 minutes, for its owner too. The owner signed in here ("testclient") before.
    assert _guess(app, user.email, 0, 9) == [401] * 9
    tenth = sign_in(_from(app, "203.0.113.9"), user.email, "guess")
    assert tenth.status_code == 429
    assert tenth.headers["retry-after"] == "1"
    assert sign_in(client, user.email, user.password).status_code == 200
    # From an address it never signed in from, the owner waits seconds, not 15 minutes.
    assert _guess(app, user.email, 10, 10) == [401] * 9 + [429]
    cafe = _from(app, "192.0.2.50")
    slowed = sign_in(cafe, user.email, user.password)
    assert slowed.status_code == 429
    assert slowed.json()["type"] == "/problems/too-many-requests"
    clock.advance(seconds=1)
    assert sign_in(cafe, user.email, user.password).status_code == 200
    # Each further failure doubles the wait, for every address it is not known at.
    assert _guess(app, user.email, 20, 10) == [401] * 9 + [429]
    waits: list[str] = []
    for n in range(4):
        clock.advance(seconds=int(waits[-1]) if waits else 1)
        refused = sign_in(_from(app, f"198.51.100.{n}"), user.email, "guess")
        assert refused.status_code == 429, refused.text
        waits.append(refused.headers["retry-after"])
    assert waits == ["2", "4", "8", "16"]
    assert sign_in(client, user.email, user.password).status_code == 200


def test_a_steady_guesser_stays_slowed_after_the_lock_window(
    user: Account, app: FastAPI, clock: FakeClock
) -> None:
    # With the locks' 15-minute memory, the failures aged out as fast as a steady guesser
    # made them, and the slowdown fell back to a second (a try a minute, all day).
    assert _guess(app, user.email, 0, 10) == [401] * 9 + [429]
    clock.advance(minutes=20)
    refused = sign_in(_from(app, "198.51.100.1"), user.email, "guess")
    assert (refused.status_code, refused.headers.get("retry-after")) == (429, "2")
    clock.advance(hours=25)
    assert _guess(app, user.email, 100, 1) == [401]


@dataclass
class Stall:
    """Passwords whose first check waits until `release`; `entered` is set once it does.
    `checked` lists every password checked or hashed, in order."""

    entered: threading.Event
    release: threading.Event
    checked: list[str]


def _stall_first_check(app: FastAPI) -> Stall:
    real: Passwords = app.state.passwords
    stall = Stall(threading.Event(), threading.Event(), [])

    class Slow(Passwords):
        def verify(self, password: str, password_hash: str | None) -> bool:
            stall.checked.append(password)
            if not stall.entered.is_set():
                stall.entered.set()
                assert stall.release.wait(10)
            return real.verify(password, password_hash)

        def hash(self, password: str) -> str:
            stall.checked.append(password)
            return real.hash(password)

    app.state.passwords = Slow(hasher=real.hasher, decoy_hash=real.decoy_hash)
    return stall


def test_tries_sent_together_cannot_slip_through_an_opening(
    app: FastAPI, user: Account, clock: FakeClock
) -> None:
    # The gate is checked before the hash: without counting a try before its hash, every
    # try sent while the wait had run out was checked, one per free hash slot.
    assert _guess(app, user.email, 0, 10) == [401] * 9 + [429]
    clock.advance(seconds=1)
    stall = _stall_first_check(app)
    first: list[int] = []
    guesser = threading.Thread(
        target=lambda: first.append(
            sign_in(_from(app, "198.51.100.1"), user.email, "guess-1").status_code
        ),
        daemon=True,
    )
    guesser.start()
    try:
        assert stall.entered.wait(10)
        second = sign_in(_from(app, "198.51.100.2"), user.email, "guess-2")
    finally:
        stall.release.set()
        guesser.join(10)
    assert second.status_code == 429
    assert stall.checked == ["guess-1"]
    assert first == [429]


def test_the_delay_has_a_ceiling(
    settings: Any, db: Engine, clock: FakeClock, make_account: AccountFactory
) -> None:
    app = create_app(settings_with(settings.database_url, login_max_delay_seconds=5), engine=db)
    app.dependency_overrides[get_clock] = lambda: clock
    victim = make_account()
    waits = []
    for n in range(14):
        refused = sign_in(_from(app, f"203.0.113.{n}"), victim.email, "guess")
        if refused.status_code == 429 and n >= 9:
            waits.append(int(refused.headers["retry-after"]))
            clock.advance(seconds=waits[-1])
    assert waits == [1, 2, 4, 5, 5]


def test_a_client_address_guessing_across_accounts_is_locked_except_for_its_own(
    settings: Any, db: Engine, clock: FakeClock, make_account: AccountFactory
) -> None:
    app = create_app(
        settings_with(settings.database_url, login_max_failures_per_address=5), engine=db
    )
    app.dependency_overrides[get_clock] = lambda: clock
    clinic = _from(app, "192.0.2.1")
    regular, newcomer = make_account(), make_account()
    assert sign_in(clinic, regular.email, regular.password).status_code == 200
    for n in range(4):
        assert sign_in(clinic, f"victim{n}@example.com", "guess").status_code == 401
    assert sign_in(clinic, "victim9@example.com", "guess").status_code == 429
    # Locked for accounts that never signed in from the clinic, not for those that did.
    assert sign_in(clinic, newcomer.email, newcomer.password).status_code == 429
    assert sign_in(clinic, regular.email, regular.password).status_code == 200
    # A wrong password is answered alike for both, and for no account at all: the
    # answer tells nobody who signs in from there, or who has an account.
    for email in (regular.email, newcomer.email, "nobody@example.com"):
        assert sign_in(clinic, email, "guess").status_code == 429, email
    # Elsewhere nothing changed.
    assert sign_in(_from(app, "192.0.2.2"), newcomer.email, newcomer.password).status_code == 200


def test_an_ipv6_subscriber_network_counts_as_one_client(
    settings: Any, db: Engine, clock: FakeClock
) -> None:
    app = create_app(settings_with(settings.database_url, register_max_per_address=2), engine=db)
    app.dependency_overrides[get_clock] = lambda: clock

    def register(address: str, email: str) -> int:
        body = {"email": email, "password": "x" * 12}
        return _from(app, address).post("/v1/auth/register", json=body).status_code

    assert register("2001:db8:1:2::1", "a@x.org") == 202
    assert register("2001:db8:1:2:ffff::9", "b@x.org") == 202
    assert register("2001:db8:1:2::abcd", "c@x.org") == 429
    assert register("2001:db8:1:3::1", "c@x.org") == 202


def test_repeated_registrations_tell_the_address_once_a_day(
    client: TestClient, db: Engine, clock: FakeClock
) -> None:
    body = {"email": "once@example.com", "password": "x" * 12}
    answers = [client.post("/v1/auth/register", json=body) for _ in range(4)]
    assert len({(a.status_code, a.text) for a in answers}) == 1
    clock.advance(hours=25)
    client.post("/v1/auth/register", json=body)
    assert [kind for _, kind in _outbox(db)] == ["welcome"] + ["already-registered"] * 2


def test_a_sign_in_name_longer_than_any_email_is_refused_by_name(client: TestClient) -> None:
    response = sign_in(client, "a" * 300 + "@example.com", "whatever-password")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["username"]


def test_erasing_an_account_erases_its_failure_records(
    app: FastAPI, client: TestClient, user: Account, db: Engine
) -> None:
    for n in range(3):
        sign_in(_from(app, f"203.0.113.{n}"), user.email, "guess")
    gone = client.request(
        "DELETE", "/v1/me", headers=user.headers, json={"password": user.password}
    )
    assert gone.status_code == 204
    with Session(db) as s:
        keys = s.exec(select(LoginFailure.key)).all()
    # Only the addresses' own counts are left; nothing names the account.
    assert sorted(k for k in keys if not k.startswith("register:")) == [
        f"address:203.0.113.{n}" for n in range(3)
    ]


def test_password_hashing_never_runs_on_the_event_loop(
    app: FastAPI, client: TestClient, user: Account
) -> None:
    calls: list[bool] = []
    real: Passwords = app.state.passwords

    def on_event_loop() -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    class Spy(Passwords):
        def hash(self, password: str) -> str:
            calls.append(on_event_loop())
            return real.hash(password)

        def verify(self, password: str, password_hash: str | None) -> bool:
            calls.append(on_event_loop())
            return real.verify(password, password_hash)

    app.state.passwords = Spy(hasher=real.hasher, decoy_hash=real.decoy_hash)
    client.post("/v1/auth/register", json={"email": "spy@example.com", "password": "x" * 12})
    sign_in(client, "spy@example.com", "x" * 12)
    sign_in(client, "spy@example.com", "wrong-password")
    client.request("DELETE", "/v1/me", headers=user.headers, json={"password": user.password})
    assert len(calls) == 4
    assert not any(calls)


def test_default_hash_cost_is_the_real_one() -> None:
    from api.config import Settings

    passwords = Passwords.from_settings(Settings())
    stored = passwords.hash("a password")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify("a password", stored)
    assert not passwords.verify("another", stored)


def test_refresh_tokens_are_stored_hashed(client: TestClient, user: Account, db: Engine) -> None:
    with Session(db) as s:
        hashes = [t.token_hash for t in s.exec(select(RefreshToken)).all()]
    assert hashes
    assert user.refresh_token not in hashes
    assert all(len(h) == 64 for h in hashes)


def test_a_sign_in_queued_past_its_bound_gets_503_with_retry_after(
    settings: Any, db: Engine, clock: FakeClock, user: Account
) -> None:

    app = create_app(
        settings_with(settings.database_url, hash_concurrency=1, hash_queue_seconds=0.3),
        engine=db,
    )
    app.dependency_overrides[get_clock] = lambda: clock
    # The first hash holds the only hashing thread until the test lets it go.
    stall = _stall_first_check(app)
    with TestClient(app) as c:
        first: list[int] = []
        holder = threading.Thread(
            target=lambda: first.append(sign_in(c, user.email, user.password).status_code)
        )
        holder.start()
        assert stall.entered.wait(10)
        try:
            queued = sign_in(c, "someone@example.com", "whatever-password")
            registered = c.post(
                "/v1/auth/register", json={"email": "new@example.com", "password": "x" * 12}
            )
        finally:
            stall.release.set()
            holder.join(10)
        for refused in (queued, registered):
            assert refused.status_code == 503
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.headers["retry-after"] == "1"
            assert refused.json()["type"] == "/problems/busy"
        assert first == [200]
        # Nothing was hashed or stored for the refused requests, and they work once the
        # queue has room.
        assert stall.checked == [user.password]
        with Session(db) as s:
            assert s.exec(select(User).where(User.email == "new@example.com")).first() is None
        retried = c.post(
            "/v1/auth/register", json={"email": "new@example.com", "password": "x" * 12}
        )
        assert retried.status_code == 202


def test_password_checks_on_account_deletion_count_with_sign_in_failures(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    def delete_me(password: str) -> Any:
        return client.request("DELETE", "/v1/me", headers=user.headers, json={"password": password})

    # Failures at sign-in and here add up, toward the same lock.
    for attempt in range(1, 5):
        assert sign_in(client, user.email, f"wrong-{attempt}").status_code == 401
    for attempt in range(5, 10):
        assert delete_me(f"wrong-{attempt}").status_code == 403, attempt
    tenth = delete_me("wrong-10")
    assert tenth.status_code == 429, tenth.text
    assert tenth.json()["type"] == "/problems/too-many-requests"
    retry_after = int(tenth.headers["retry-after"])
    assert 0 < retry_after <= 15 * 60
    # Locked here and at sign-in, even with the right password; the account is intact.
    assert delete_me(user.password).status_code == 429
    assert sign_in(client, user.email, user.password).status_code == 429
    assert client.get("/v1/me", headers=user.headers).status_code == 200
    clock.advance(seconds=retry_after + 1)
    assert delete_me(user.password).status_code == 204


def test_signing_out_ends_that_sign_ins_access_tokens_at_once(
    client: TestClient, user: Account
) -> None:
    other = sign_in(client, user.email, user.password).json()
    other_headers = {"Authorization": f"Bearer {other['access_token']}"}
    assert client.get("/v1/me", headers=user.headers).status_code == 200
    assert (
        client.post("/v1/auth/logout", json={"refresh_token": user.refresh_token}).status_code
        == 204
    )
    ended = client.get("/v1/me", headers=user.headers)
    assert ended.status_code == 401, ended.text
    assert ended.json()["type"] == "/problems/unauthorized"
    assert "sign-in has ended" in ended.json()["detail"]
    # Writes too, and the other sign-in goes on.
    assert (
        client.post("/v1/me/devices", headers=user.headers, json={"name": "x"}).status_code == 401
    )
    assert client.get("/v1/me", headers=other_headers).status_code == 200


def test_a_reused_refresh_token_ends_the_familys_access_tokens(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    rotated = client.post("/v1/auth/refresh", json={"refresh_token": user.refresh_token}).json()
    newest = {"Authorization": f"Bearer {rotated['access_token']}"}
    assert client.get("/v1/me", headers=newest).status_code == 200
    # The old refresh token comes back later: someone else has it, so the family ends.
    clock.advance(minutes=1)
    client.post("/v1/auth/refresh", json={"refresh_token": user.refresh_token})
    assert client.get("/v1/me", headers=newest).status_code == 401
    assert client.get("/v1/me", headers=user.headers).status_code == 401


def refresh(client: TestClient, token: str) -> Any:
    return client.post("/v1/auth/refresh", json={"refresh_token": token})


def test_a_refresh_retried_within_the_window_keeps_the_sign_in(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    """A lost response, or an app and its widget refreshing at once: the same token again
    within the window gets the pair already issued, and nobody is signed out."""
    first = refresh(client, user.refresh_token)
    assert first.status_code == 200
    clock.advance(seconds=REUSE_WINDOW.total_seconds() - 1)
    again = refresh(client, user.refresh_token)
    assert again.status_code == 200, again.text
    assert again.json()["refresh_token"] == first.json()["refresh_token"]
    # Both access tokens belong to the same sign-in (the second is dated on the test's
    # clock, ahead of the real one, so it is read here rather than sent).
    headers = {"Authorization": f"Bearer {first.json()['access_token']}"}
    assert client.get("/v1/me", headers=headers).status_code == 200
    claims = [
        jwt.decode(
            p["access_token"], TEST_SECRET, algorithms=["HS256"], options={"verify_iat": False}
        )
        for p in (first.json(), again.json())
    ]
    assert claims[0]["fid"] == claims[1]["fid"] and claims[0]["jti"] != claims[1]["jti"]
    # The pair both hold rotates as usual, and the sign-in goes on.
    clock.advance(minutes=5)
    later = refresh(client, again.json()["refresh_token"])
    assert later.status_code == 200
    assert client.get("/v1/me", headers=user.headers).status_code == 200


def test_a_reuse_after_the_window_or_after_the_new_token_was_used_ends_the_sign_in(
    client: TestClient, make_account: AccountFactory, clock: FakeClock
) -> None:
    # Within the window, but the pair it got was used since: the chain moved on, so the
    # old token is someone else's copy.
    moved = make_account()
    issued = refresh(client, moved.refresh_token).json()
    newer = refresh(client, issued["refresh_token"]).json()
    assert refresh(client, moved.refresh_token).status_code == 401
    assert refresh(client, newer["refresh_token"]).status_code == 401
    ended = client.get("/v1/me", headers={"Authorization": f"Bearer {newer['access_token']}"})
    assert ended.status_code == 401 and "sign-in has ended" in ended.json()["detail"]
    # After the window.
    late = make_account()
    issued = refresh(client, late.refresh_token).json()
    clock.advance(seconds=REUSE_WINDOW.total_seconds() + 1)
    assert refresh(client, late.refresh_token).status_code == 401
    assert refresh(client, issued["refresh_token"]).status_code == 401  # the family ended


def test_refreshes_sent_together_all_keep_the_sign_in(app: FastAPI, user: Account) -> None:
    """Two refreshes of one token at the same moment (separate connections)."""
    results: list[Any] = []

    def go() -> None:
        with TestClient(app) as own:
            results.append(refresh(own, user.refresh_token))

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [200, 200], [r.text for r in results]
    assert len({r.json()["refresh_token"] for r in results}) == 1


def test_with_no_reuse_window_any_reuse_ends_the_sign_in(
    settings: Any, db: Engine, clock: FakeClock, make_account: AccountFactory
) -> None:
    user = make_account()
    app = create_app(settings_with(settings.database_url, refresh_reuse_seconds=0), engine=db)
    frozen = clock()  # the retry at the very same instant: still too late with no window
    app.dependency_overrides[get_clock] = lambda: lambda: frozen
    with TestClient(app) as c:
        issued = refresh(c, user.refresh_token)
        assert issued.status_code == 200
        assert refresh(c, user.refresh_token).status_code == 401  # at once, all the same
        assert refresh(c, issued.json()["refresh_token"]).status_code == 401
