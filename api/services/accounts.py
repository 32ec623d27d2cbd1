"""Accounts: registration, sign-in, token rotation, sign-out, the profile.

A person's devices: api/services/devices.py; their data's export and erasure:
api/services/account_data.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.config import Settings
from api.errors import FieldError, InvalidCredentials, Unauthorized
from api.models import Equipment, OutboxMessage, RefreshToken, User
from api.schemas.accounts import (
    MIN_AGE_YEARS,
    ProfilePatch,
    RegisterIn,
    RegistrationAccepted,
    TokenPair,
    UserPublic,
)
from api.security import (
    REFRESH_TOKEN_PREFIX,
    Passwords,
    create_access_token,
    derived_token,
    new_opaque_token,
    token_digest,
)
from api.services import throttle
from api.services.screening_state import screened

BAD_CREDENTIALS = "Wrong email or password."


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


REGISTERED = (
    "If {email} can be registered, its account is ready: sign in with it. Either way, a "
    "message about it is on its way to that address."
)
# Outbox kinds: what the address's owner is told.
WELCOME = "welcome"
ALREADY_REGISTERED = "already-registered"  # someone tried to register it again


def register_limit(settings: Settings, address: str) -> throttle.Limit:
    return throttle.Limit(
        throttle.register_key(address),
        settings.register_max_per_address,
        timedelta(minutes=settings.login_failure_window_minutes),
    )


def register(
    session: Session,
    passwords: Passwords,
    settings: Settings,
    data: RegisterIn,
    *,
    address: str,
    now: datetime,
) -> RegistrationAccepted:
    """Create the account if the address has none; either way queue a message for the
    address and answer alike, so the answer does not tell who has an account (issue 18).
    Both ways compute the hash, which is nearly all of the time either takes; they differ
    by a row or two written."""
    email = normalise_email(str(data.email))
    limit = register_limit(settings, address)
    throttle.refuse_while_locked(session, [limit], now, what="registrations from this address")
    # Every attempt counts, not only those for a registered address: counting only those
    # would make the 429 tell the same thing the answer no longer does.
    throttle.record_failure(session, [limit], now)
    taken = find_user_by_email(session, email) is not None
    # No transaction (nor SQLite's write lock, nor a pooled connection) is held through
    # the hash; the unique email index still settles a race (below).
    session.commit()
    password_hash = passwords.hash(data.password.get_secret_value())
    if not taken:
        session.add(
            User(
                email=email,
                password_hash=password_hash,
                display_name=data.display_name,
                created_at=now,
                updated_at=now,
            )
        )
        session.add(OutboxMessage(recipient=email, kind=WELCOME, created_at=now))
        try:
            session.commit()
        except IntegrityError:  # a concurrent registration of the address won the race
            session.rollback()
            taken = True
    # (Looked up again: an account erased meanwhile leaves nobody to tell, and its
    # erasure must not be followed by a message naming its address.)
    if taken and find_user_by_email(session, email) and not _told_lately(session, email, now):
        session.add(OutboxMessage(recipient=email, kind=ALREADY_REGISTERED, created_at=now))
        session.commit()
    return RegistrationAccepted(email=email, detail=REGISTERED.format(email=email))


def _told_lately(session: Session, email: str, now: datetime) -> bool:
    """Whether the address was told of a repeat registration within a day: one note a
    day is enough, and registrations must not be a way to flood someone's inbox."""
    return (
        session.exec(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.recipient == email,
                OutboxMessage.kind == ALREADY_REGISTERED,
                col(OutboxMessage.created_at) > now - timedelta(days=1),
            )
            .limit(1)
        ).first()
        is not None
    )


def create_user(
    session: Session, passwords: Passwords, email: str, password: str, role: str, now: datetime
) -> User:
    """For the CLI: an account with any role (there is no public way to become admin)."""
    user = User(
        email=normalise_email(email),
        password_hash=passwords.hash(password),
        role=role,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    session.commit()
    return user


@dataclass(frozen=True)
class PasswordGate:
    """What a password typed for an account from a client address counts against
    (sign-in and DELETE /v1/me alike), so that an attacker cannot aim a lockout:

    - the account and address together are locked past a few failures (the owner's own
      typos from their own address end here too);
    - the account from anywhere is only slowed, more with each failure, never locked;
    - the address for any account is locked past many failures (password spraying);
    - an address the account has signed in from lately (password right) is spared the
      last two for the right password, so failures from elsewhere, however many,
      neither slow nor lock its owner there. A wrong one from there is answered as it
      would be from anywhere, so that the answer does not tell whether the account
      signed in from that address (nor whether it exists).
    """

    pair: throttle.Limit
    account: throttle.Limit
    address: throttle.Limit
    max_delay: int
    known: bool

    def wait(self, session: Session, now: datetime, *, known: bool) -> int | None:
        """Seconds until a password may be checked (None: now), as from a known address
        or not."""
        waits = [throttle.locked_for(session, self.pair, now)]
        if not known:
            waits.append(throttle.locked_for(session, self.address, now))
            waits.append(throttle.slowed_for(session, self.account, self.max_delay, now))
        found = [w for w in waits if w is not None]
        return max(found) if found else None

    def refuse_while_closed(self, session: Session, now: datetime) -> None:
        """429 with Retry-After while this password may not be checked. Before hashing,
        so a locked-out flood costs no CPU."""
        wait = self.wait(session, now, known=self.known)
        if wait is not None:
            raise throttle.too_many(wait, FAILED_ATTEMPTS)

    def hold(self, session: Session, now: datetime) -> list[int]:
        """Count this try as a failure before its password is checked (committed), so
        that tries sent together cannot all slip through an opening in the gate: the
        next one sees this one. `passed` takes it back."""
        held = throttle.record_failure(session, [self.pair, self.account, self.address], now)
        session.commit()
        return held

    def failed(self, session: Session, now: datetime) -> None:
        """The held try was a wrong password: 429 if the gate is closed now to anyone
        not at a known address."""
        wait = self.wait(session, now, known=False)
        if wait is not None:
            raise throttle.too_many(wait, FAILED_ATTEMPTS)

    def passed(self, session: Session, held: list[int]) -> None:
        throttle.withdraw(session, held)
        # Only the password's holder gets here: their account is no longer slowed.
        throttle.clear(session, self.pair.key)
        throttle.clear(session, self.account.key)


FAILED_ATTEMPTS = "failed sign-in attempts"


def password_gate(
    session: Session, settings: Settings, email: str, address: str, user: User | None, now: datetime
) -> PasswordGate:
    email = normalise_email(email)
    window = timedelta(minutes=settings.login_failure_window_minutes)
    return PasswordGate(
        pair=throttle.Limit(
            throttle.pair_key(email, address), settings.login_max_failures_per_pair, window
        ),
        # A longer memory than the locks': with the window's, failures aged out as fast
        # as they came and a steady guesser settled at a try a minute.
        account=throttle.Limit(
            throttle.account_key(email),
            settings.login_max_failures_per_account,
            timedelta(hours=settings.login_slowdown_window_hours),
        ),
        address=throttle.Limit(
            throttle.address_key(address), settings.login_max_failures_per_address, window
        ),
        max_delay=settings.login_max_delay_seconds,
        known=user is not None and _signed_in_from(session, settings, user.id, address, now),
    )


def _signed_in_from(
    session: Session, settings: Settings, user_id: uuid.UUID, address: str, now: datetime
) -> bool:
    if settings.login_known_address_days == 0:
        return False
    since = now - timedelta(days=settings.login_known_address_days)
    found = session.exec(
        select(RefreshToken.id)
        .where(
            RefreshToken.user_id == user_id,
            RefreshToken.address == address,
            col(RefreshToken.created_at) > since,
        )
        .limit(1)
    ).first()
    return found is not None


def login(
    session: Session,
    passwords: Passwords,
    settings: Settings,
    *,
    email: str,
    password: str,
    address: str,
    now: datetime,
) -> TokenPair:
    user = find_user_by_email(session, email)
    gate = password_gate(session, settings, email, address, user, now)
    gate.refuse_while_closed(session, now)
    # Committed, as in register: nothing held through the hash.
    held = gate.hold(session, now)
    if not passwords.verify(password, user.password_hash if user else None) or user is None:
        gate.failed(session, now)
        raise InvalidCredentials(BAD_CREDENTIALS)
    gate.passed(session, held)
    pair = _issue_tokens(session, settings, user, uuid.uuid4(), now, address)
    session.commit()
    return pair


def _successor(settings: Settings, token: str) -> str:
    """The refresh token a rotation of `token` issues, worked out again for a retry."""
    return derived_token(REFRESH_TOKEN_PREFIX, settings.secret_key, "refresh-successor", token)


def _issue_tokens(
    session: Session,
    settings: Settings,
    user: User,
    family_id: uuid.UUID,
    now: datetime,
    address: str | None,
    refresh: str | None = None,
) -> TokenPair:
    refresh = refresh or new_opaque_token(REFRESH_TOKEN_PREFIX)
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id,
            token_hash=token_digest(refresh),
            created_at=now,
            expires_at=now + timedelta(days=settings.refresh_token_days),
            address=address,
        )
    )
    access, expires_in = create_access_token(
        settings, user_id=user.id, role=user.role, now=now, family_id=family_id
    )
    return TokenPair(access_token=access, expires_in=expires_in, refresh_token=refresh)


def _revoke_family(session: Session, family_id: uuid.UUID, now: datetime) -> None:
    session.exec(
        update(RefreshToken)
        .where(
            col(RefreshToken.family_id) == family_id,
            col(RefreshToken.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )


def refresh(session: Session, settings: Settings, token: str, now: datetime) -> TokenPair:
    row = session.exec(
        select(RefreshToken).where(RefreshToken.token_hash == token_digest(token))
    ).first()
    if row is None:
        raise Unauthorized("Unknown refresh token; sign in again.")
    if row.revoked_at is not None:
        raise Unauthorized("This refresh token was revoked; sign in again.")
    if row.expires_at <= now:
        raise Unauthorized("This refresh token has expired; sign in again.")
    # Claim the token atomically: of two requests presenting it, exactly one wins.
    claimed = session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.id) == row.id, col(RefreshToken.used_at).is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        again = _retried_rotation(session, settings, row, token, now)
        if again is not None:
            return again
        # A used token came back: someone else has it. End the whole family.
        _revoke_family(session, row.family_id, now)
        session.commit()
        raise Unauthorized("This refresh token was already used; every session from it is ended.")
    user = session.get(User, row.user_id)
    if user is None:
        raise Unauthorized("Unknown refresh token; sign in again.")
    # No address: a refresh proves the token, not the password (a thief's address must
    # not become one the account is known at).
    pair = _issue_tokens(
        session, settings, user, row.family_id, now, None, refresh=_successor(settings, token)
    )
    session.commit()
    return pair


def _retried_rotation(
    session: Session, settings: Settings, row: RefreshToken, token: str, now: datetime
) -> TokenPair | None:
    """The pair a rotation of `token` issued, when `token` comes back within the reuse
    window (a lost response, or two refreshes at once from one app) and that pair is
    still unused: the client is then signed in with the same refresh token as the
    request that won. None otherwise: the reuse is treated as theft."""
    window = timedelta(seconds=settings.refresh_reuse_seconds)
    # Read again: the rotation that used it may have committed after `row` was read.
    used_at = session.exec(select(RefreshToken.used_at).where(RefreshToken.id == row.id)).one()
    if settings.refresh_reuse_seconds == 0 or used_at is None or used_at < now - window:
        return None
    successor = _successor(settings, token)
    issued = session.exec(
        select(RefreshToken).where(RefreshToken.token_hash == token_digest(successor))
    ).first()
    if (
        issued is None
        or issued.family_id != row.family_id
        or issued.used_at is not None
        or issued.revoked_at is not None
    ):
        return None
    user = session.get(User, row.user_id)
    if user is None:
        return None
    access, expires_in = create_access_token(
        settings, user_id=user.id, role=user.role, now=now, family_id=row.family_id
    )
    session.rollback()  # nothing to keep: the pair was stored by the rotation
    return TokenPair(access_token=access, expires_in=expires_in, refresh_token=successor)


def logout(session: Session, token: str, now: datetime) -> None:
    row = session.exec(
        select(RefreshToken).where(RefreshToken.token_hash == token_digest(token))
    ).first()
    if row is not None:
        _revoke_family(session, row.family_id, now)
        session.commit()


def public_user(user: User) -> UserPublic:
    return UserPublic.model_validate(user, from_attributes=True)


def update_profile(session: Session, user: User, patch: ProfilePatch, now: datetime) -> User:
    changes = patch.model_dump(exclude_unset=True)
    if changes.get("birth_year") is not None and changes["birth_year"] > now.year - MIN_AGE_YEARS:
        raise FieldError(
            [("birth_year", f"must be at least {MIN_AGE_YEARS} years ago", "out_of_range")]
        )
    if "birth_year" in changes and changes["birth_year"] is None and screened(session, user.id):
        # Removing it would lift the under-16 gate without anyone clearing anything.
        raise FieldError(
            [
                (
                    "birth_year",
                    "cannot be removed once the screening is answered; correct it instead",
                    "required",
                )
            ]
        )
    if "equipment" in changes:
        wanted = list(dict.fromkeys(changes["equipment"]))
        known = set(session.exec(select(Equipment.slug)).all())
        unknown = [slug for slug in wanted if slug not in known]
        if unknown:
            raise FieldError([("equipment", f"unknown equipment: {', '.join(unknown)}", "unknown")])
        changes["equipment"] = wanted
    for field, value in changes.items():
        setattr(user, field, value)
    if changes:
        user.updated_at = now
        session.add(user)
        session.commit()
    return user
