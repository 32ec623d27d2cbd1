"""Every write to what the rules read about a person moves the person's `eval_version`.

Reads serve a cached evaluation while the person's `users.eval_version` is the one it was
made at (api/services/evaluation_cache.py), so no write path may miss moving it. Rather
than trusting each service to remember, two session events do it for every session of
the application: before a flush that adds, changes or deletes a row of a rule input,
and before a Core INSERT, UPDATE or DELETE on one. The version moves first, before the
rows: on PostgreSQL concurrent writers for one person then queue on the person's row
before they touch anything else, so the lock cannot make a deadlock.

The version moves once per transaction per person, in that transaction: it commits or
rolls back with the rows it stands for.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, Uuid, column, event, select, table, update
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList
from sqlmodel import Session

from api.db import metadata

# Tables the rule service reads about one person, each with a `user_id`.
RULE_INPUTS = frozenset(
    {
        "advice",  # the latest advice carries the flare it stood on
        "checkins",
        "clinician_actions",
        "clinician_links",
        "clinician_plans",
        "dose_changes",
        "outcomes",  # STarT Back, and F2 on the ODI and PSFS
        "routine_items",
        "screenings",
        "session_logs",
        "sessions",
        "user_thresholds",
    }
)
# Tables it does not read, or reads through another key: `users` (the cache compares
# the whole row), the catalog (the cache compares the catalog snapshot), and the rest.
NOT_RULE_INPUTS = frozenset(
    {
        "alerts",
        "catalog_state",
        "clinician_invitations",
        "devices",
        "equipment",
        "exercise_equipment",
        "exercise_muscles",
        "exercise_revisions",
        "exercises",
        "idempotency_keys",
        "person_idempotency_keys",
        "login_failures",
        "outbox",
        "muscles",
        "refresh_tokens",
        "segment_type_mappings",
        "tombstones",
        "users",
        "wearable_uploads",
    }
)
_BUMPED = "changes.bumped"
_WROTE = "changes.wrote"
# Not api.models.User: api.models imports this module, so that every process that
# writes tables (the server, the CLI, the seed, tests) registers the events.
_USERS = table("users", column("id", Uuid()), column("eval_version", BigInteger()))


class UnknownPerson(RuntimeError):
    """A Core statement writes a rule input without saying whose (no user_id to read)."""


def bump(session: OrmSession, user_ids: Iterable[uuid.UUID]) -> None:
    """Move each person's version, once per transaction."""
    done: set[uuid.UUID] = session.info.setdefault(_BUMPED, set())
    todo = sorted(set(user_ids) - done)  # one order for every writer: no lock cycle
    if not todo:
        return
    session.connection().execute(
        update(_USERS).where(_USERS.c.id.in_(todo)).values(eval_version=_USERS.c.eval_version + 1)
    )
    done.update(todo)
    session.info[_WROTE] = True
    # A person loaded in this session would otherwise keep the old number after the
    # commit (sessions do not expire on commit), and a later read in it could be served
    # an entry made before this write.
    moved = set(todo)
    for obj in list(session.identity_map.values()):
        if _table(obj) == "users" and getattr(obj, "id", None) in moved:
            session.expire(obj, ["eval_version"])


def bump_linked(session: OrmSession, user_id: uuid.UUID) -> None:
    """Move the version of everyone whose rule inputs name `user_id` other than as their
    owner (a clinician's links and plans), before the database changes those rows by
    itself (ON DELETE CASCADE / SET NULL fires no session event): for deleting a user."""
    people: set[uuid.UUID] = set()
    for name, columns in linked_columns().items():
        table = metadata.tables[name]
        for column_name in columns:
            found = session.connection().execute(
                select(table.c.user_id).where(table.c[column_name] == user_id).distinct()
            )
            people.update(found.scalars())
    bump(session, people)


def linked_columns() -> dict[str, list[str]]:
    """Per rule input, its columns other than `user_id` that refer to a user."""
    out: dict[str, list[str]] = {}
    for name in sorted(RULE_INPUTS):
        for fk in metadata.tables[name].foreign_keys:
            if fk.column.table.name == "users" and fk.parent.name != "user_id":
                out.setdefault(name, []).append(fk.parent.name)
    return out


def holds_person(session: OrmSession, user_id: uuid.UUID) -> bool:
    """Whether this transaction has moved `user_id`'s version and so holds the person
    until it ends: the row lock on PostgreSQL, the database's write lock on SQLite. No
    other writer can store anything of theirs meanwhile, so what this transaction reads
    of them from now on stays the latest."""
    return user_id in session.info.get(_BUMPED, ())


def wrote_in_this_transaction(session: OrmSession) -> bool:
    """Whether this transaction has moved a version (so it reads its own writes)."""
    return bool(session.info.get(_WROTE))


def _table(obj: Any) -> str | None:
    return getattr(type(obj), "__tablename__", None)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    people = {
        obj.user_id
        for obj in (*session.new, *session.dirty, *session.deleted)
        if _table(obj) in RULE_INPUTS
    }
    bump(session, people)


def _owner_terms(where: Any) -> set[uuid.UUID]:
    """The people a WHERE clause confines a statement to: its top-level AND terms
    `user_id = :id` and `user_id IN (:ids)`. Anything else (an OR, `!=`) confines nothing,
    and a statement confined by nothing is refused by the caller."""
    terms = (
        list(where.clauses)
        if isinstance(where, BooleanClauseList) and where.operator is operators.and_
        else [where]
    )
    found: set[uuid.UUID] = set()
    for term in terms:
        if not (
            isinstance(term, BinaryExpression)
            and getattr(term.left, "key", None) == "user_id"
            and isinstance(term.right, BindParameter)
        ):
            continue
        value = term.right.effective_value
        if term.operator is operators.eq and isinstance(value, uuid.UUID):
            found.add(value)
        elif term.operator is operators.in_op and isinstance(value, list | tuple):
            found.update(v for v in value if isinstance(v, uuid.UUID))
    return found


def _people_of(state: ORMExecuteState) -> set[uuid.UUID]:
    """The people a Core statement writes for: the user_id of each row it inserts
    (executemany parameters, or VALUES), or those its WHERE clause confines it to."""
    found: set[uuid.UUID] = set()
    params = state.parameters
    for p in params if isinstance(params, list) else [params] if params else []:
        if isinstance(p, dict) and isinstance(p.get("user_id"), uuid.UUID):
            found.add(p["user_id"])
    statement: Any = state.statement
    where = getattr(statement, "whereclause", None)
    if where is not None:
        found.update(_owner_terms(where))
    if not found and state.is_insert:
        # INSERT ... VALUES (...), (...): its bound values, by column name.
        compiled = statement.compile(dialect=state.session.get_bind().dialect)
        found.update(
            value
            for name, value in compiled.params.items()
            if name.startswith("user_id") and isinstance(value, uuid.UUID)
        )
    return found


@event.listens_for(Session, "do_orm_execute")
def _before_core_write(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is None or table.name not in RULE_INPUTS:
        return
    people = _people_of(state)
    if not people:
        raise UnknownPerson(f"a write to {table.name} names no user_id")
    bump(state.session, people)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    # At the end of the transaction or of a savepoint (not of a flush's own inner
    # transaction), committed or rolled back, the next write moves the version again:
    # one more than needed at worst, never one too few (a savepoint rolled back with
    # the only move).
    if transaction.parent is None or transaction.nested:
        session.info.pop(_BUMPED, None)
    if transaction.parent is None:
        session.info.pop(_WROTE, None)
