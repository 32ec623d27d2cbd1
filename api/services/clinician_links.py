"""Clinicians and patients meet: invitation codes, and the links patients make with them.

A code is made by a clinician and used once by a patient; guesses are throttled per
account and per client address, and a clinician holds a bounded number of live codes.
A retry of a link (the same code again) gets the link it made. The rest of what
clinicians do with linked patients is in api/services/clinicians.py.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from api.errors import Conflict, FieldError, NotFound
from api.models import ClinicianInvitation, ClinicianLink, ClinicianPlan, Tombstone, User
from api.pagination import keyset_page
from api.schemas.clinicians import InvitationPublic, LinkPublic, PersonRef
from api.services import sync, throttle
from api.services.care_team import record
from api.services.store import insert_or_existing

INVITATION_LIFETIME = timedelta(days=7)
# Unambiguous letters and digits (no 0/O, 1/I/L): read aloud or typed from paper.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
# Codes are 8 characters of 31 (about 40 bits): guessing one must stay hopeless, so wrong
# codes are counted like wrong passwords (per account and per client address, in the
# database every process shares) and a clinician holds a bounded number of live codes.
CODE_GUESSES_PER_ACCOUNT = 10
CODE_GUESSES_PER_ADDRESS = 50
CODE_GUESS_WINDOW = timedelta(minutes=15)
MAX_OUTSTANDING_CODES = 20
WRONG_CODES = "wrong invitation codes"


def _digest(code: str) -> str:
    normal = code.replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(normal.encode()).hexdigest()


# --- invitations and links ---------------------------------------------------------------


def create_invitation(session: Session, clinician: User, now: datetime) -> InvitationPublic:
    # A write first, to the clinician's row: a second request at the same moment waits
    # here until this one commits (PostgreSQL: the row's lock; SQLite: the write lock),
    # so its count below cannot miss this code and the cap holds under a burst.
    session.exec(
        update(User).where(col(User.id) == clinician.id).values(updated_at=User.updated_at)
    )
    outstanding = session.exec(
        select(func.count())
        .select_from(ClinicianInvitation)
        .where(
            col(ClinicianInvitation.clinician_id) == clinician.id,
            col(ClinicianInvitation.used_at).is_(None),
            col(ClinicianInvitation.expires_at) > now,
        )
    ).one()
    if outstanding >= MAX_OUTSTANDING_CODES:
        raise Conflict(
            f"You have {outstanding} unused invitation codes; a new one can be made when one "
            "is used or expires (codes last 7 days)."
        )
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    shown = f"{code[:4]}-{code[4:]}"
    invitation = ClinicianInvitation(
        clinician_id=clinician.id,
        code_hash=_digest(code),
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    session.add(invitation)
    session.commit()
    return InvitationPublic(code=shown, expires_at=invitation.expires_at)


def _link_public(session: Session, link: ClinicianLink) -> LinkPublic:
    clinician = session.get(User, link.clinician_id)
    assert clinician is not None
    return LinkPublic(
        id=link.id,
        clinician=PersonRef(
            id=clinician.id, display_name=clinician.display_name, email=clinician.email
        ),
        created_at=link.created_at,
    )


def _guess_limits(patient: User, address: str) -> list[throttle.Limit]:
    return [
        throttle.Limit(f"code-account:{patient.id}", CODE_GUESSES_PER_ACCOUNT, CODE_GUESS_WINDOW),
        throttle.Limit(
            f"code-address:{throttle.client_group(address)}",
            CODE_GUESSES_PER_ADDRESS,
            CODE_GUESS_WINDOW,
        ),
    ]


def _linked_with(
    session: Session, invitation: ClinicianInvitation, patient: User
) -> LinkPublic | None:
    """The link this code made for this patient, if it made one that still stands: a
    retry after a lost response gets it again. Using a code stamps the code and the link
    with the same instant, so a link made later (after unlinking) is not taken for it."""
    if invitation.used_at is None:
        return None
    # At or before: a patient already linked keeps the link they had (the code was
    # claimed all the same, and its retry gets that link too).
    made = session.exec(
        select(ClinicianLink).where(
            ClinicianLink.clinician_id == invitation.clinician_id,
            ClinicianLink.user_id == patient.id,
            col(ClinicianLink.created_at) <= invitation.used_at,
        )
    ).first()
    if made is None:
        return None
    session.commit()  # nothing written; ends the read transaction like the other paths
    return _link_public(session, made)


def link(
    session: Session, patient: User, code: str, now: datetime, address: str = "unknown"
) -> tuple[LinkPublic, bool]:
    """Link the caller to the inviting clinician. Returns (link, newly created)."""
    limits = _guess_limits(patient, address)
    throttle.refuse_while_locked(session, limits, now, WRONG_CODES)
    invitation = session.exec(
        select(ClinicianInvitation).where(ClinicianInvitation.code_hash == _digest(code))
    ).first()
    invalid = FieldError(
        [("code", "unknown, already used or expired invitation code", "invalid_code")]
    )
    retried = _linked_with(session, invitation, patient) if invitation is not None else None
    if retried is not None:
        return retried, False
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= now:
        throttle.count_failure(session, limits, now, WRONG_CODES)
        raise invalid
    # Claim the code atomically: of two patients using it at once, one links.
    claimed = session.exec(
        update(ClinicianInvitation)
        .where(
            col(ClinicianInvitation.id) == invitation.id,
            col(ClinicianInvitation.used_at).is_(None),
        )
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        session.rollback()
        # The same patient sent it twice at once: the other request linked them.
        session.refresh(invitation)
        retried = _linked_with(session, invitation, patient)
        if retried is not None:
            return retried, False
        raise invalid
    clinician = session.get(User, invitation.clinician_id)
    if clinician is None or clinician.role != "clinician":
        raise FieldError([("code", "this invitation is no longer valid", "invalid_code")])
    if clinician.id == patient.id:
        raise FieldError([("code", "you cannot link yourself", "not_allowed")])

    def existing_link() -> ClinicianLink | None:
        return session.exec(
            select(ClinicianLink).where(
                ClinicianLink.clinician_id == clinician.id, ClinicianLink.user_id == patient.id
            )
        ).first()

    existing = existing_link()
    if existing is not None:
        session.commit()
        return _link_public(session, existing), False
    new = ClinicianLink(clinician_id=clinician.id, user_id=patient.id, created_at=now)
    # The same patient linking the same clinician twice at once keeps the one link.
    existing = insert_or_existing(session, new, existing_link)
    if existing is not None:
        return _link_public(session, existing), False
    record(session, patient.id, clinician.id, "linked", {"by": "patient"}, now)
    session.commit()
    return _link_public(session, new), True


def list_links(
    session: Session,
    patient: User,
    *,
    since: datetime | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> tuple[list[LinkPublic], list[Tombstone], str | None]:
    """The patient's links, oldest first; with `since`, those made since or whose
    clinician's name or address changed since, and the ids of links ended since."""
    mine = select(ClinicianLink).where(ClinicianLink.user_id == patient.id)
    gone: list[Tombstone] = []
    if since is None:
        links, next_cursor = keyset_page(
            session,
            mine,
            time_col=ClinicianLink.created_at,
            id_col=ClinicianLink.id,
            limit=limit,
            cursor=cursor,
        )
    else:
        renamed = (
            select(User.id)
            .where(col(User.id) == col(ClinicianLink.clinician_id), col(User.updated_at) >= since)
            .exists()
        )
        links, gone, next_cursor = sync.changed_page(
            session,
            mine,
            time_col=ClinicianLink.created_at,
            id_col=ClinicianLink.id,
            owner_id=patient.id,
            kind="clinician_link",
            since=since,
            limit=limit,
            cursor=cursor,
            changed=(col(ClinicianLink.created_at) >= since) | renamed,
        )
    return [_link_public(session, link) for link in links], gone, next_cursor


def remove_link(session: Session, patient: User, link_id: uuid.UUID, now: datetime) -> None:
    link_row = session.get(ClinicianLink, link_id)
    if link_row is None or link_row.user_id != patient.id:
        raise NotFound("No such link.")
    record(session, patient.id, link_row.clinician_id, "unlinked", {"by": "patient"}, now)
    plan = session.get(ClinicianPlan, patient.id)
    if plan is not None and plan.updated_by == link_row.clinician_id and plan.cleared_under:
        # Their clearances despite screening answers end with the link (a new link does
        # not bring them back); the list of cleared exercises stays, as it only narrows.
        plan.cleared_under = {}
        session.add(plan)
    session.delete(link_row)
    sync.bury(session, patient.id, "clinician_link", link_row.id, now)
    session.commit()
