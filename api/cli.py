"""The ``backstrong`` command: serve, migrate, seed, check, create-admin, set-role.

Each subcommand prints what it did and exits non-zero with a one-line reason on
failure, so it can gate container start-up and CI steps.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from pydantic import ValidationError
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from api.config import Settings
from api.db import make_engine, utcnow
from api.models.accounts import ROLES
from api.schemas.accounts import PASSWORD_MAX, PASSWORD_MIN
from api.security import Passwords

# uvicorn's supervisor kills a worker that does not answer its health ping within this
# long, including one still starting. Its default (5 s) is less than a replacement worker
# takes to import the app on a busy host: bench/faults.py saw each replacement for a
# killed worker killed in turn, 5.5 s after it was spawned, until one started in time.
WORKER_HEALTHCHECK_SECONDS = 30


class CommandError(Exception):
    """A failure to report in one line, with exit status 1."""


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        reason = str(err["msg"]).removeprefix("Value error, ")
        place = f" ({where})" if where else ""
        raise CommandError(f"invalid configuration{place}: {reason}") from exc


def _safe_url(settings: Settings) -> str:
    return make_url(settings.database_url).render_as_string(hide_password=True)


def _db_error(exc: SQLAlchemyError) -> CommandError:
    cause = getattr(exc, "orig", None) or exc
    first_line = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return CommandError(f"database error: {first_line}")


def cmd_migrate(_args: argparse.Namespace) -> None:
    from api import migrations

    settings = _settings()
    engine = make_engine(settings)
    try:
        before = migrations.current_revisions(engine)
        migrations.upgrade(engine)
        after = migrations.current_revisions(engine)
    except SQLAlchemyError as exc:
        raise _db_error(exc) from exc
    finally:
        engine.dispose()
    if before == after:
        print(f"migrate: {_safe_url(settings)} already at head ({', '.join(after)})")
    else:
        was = ", ".join(before) or "empty"
        print(f"migrate: {_safe_url(settings)} upgraded {was} -> {', '.join(after)}")


def _require_head(engine: Engine) -> None:
    from api import migrations

    if not migrations.is_at_head(engine):
        raise CommandError("database is not migrated to head: run `backstrong migrate` first")


def cmd_seed(args: argparse.Namespace) -> None:
    from api.services.seed import SeedError, apply_seed, load_seed

    settings = _settings()
    try:
        catalog = load_seed(Path(args.dir)) if args.dir else load_seed()
    except SeedError as exc:
        raise CommandError(f"seed file error: {exc}") from exc
    engine = make_engine(settings)
    try:
        _require_head(engine)
        with Session(engine, expire_on_commit=False) as session:
            report = apply_seed(session, catalog, force=args.force)
    except SQLAlchemyError as exc:
        raise _db_error(exc) from exc
    finally:
        engine.dispose()
    for line in report.lines():
        print(f"seed: {line}")
    if not report.changed:
        print("seed: nothing to change")


def cmd_check(_args: argparse.Namespace) -> None:
    from sqlalchemy import text

    from api import migrations

    settings = _settings()
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current = migrations.current_revisions(engine)
    except SQLAlchemyError as exc:
        raise _db_error(exc) from exc
    finally:
        engine.dispose()
    heads = migrations.head_revisions()
    if current != heads:
        raise CommandError(
            f"migrations not at head (database: {', '.join(current) or 'empty'}; "
            f"code: {', '.join(heads)}): run `backstrong migrate`"
        )
    print(f"check: {_safe_url(settings)} reachable, migrations at head ({', '.join(heads)})")


def _account_tools(settings: Settings) -> tuple[Engine, Passwords]:
    return make_engine(settings), Passwords.from_settings(settings)


def _read_password(email: str) -> str:
    password = os.environ.get("BACKSTRONG_ADMIN_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise CommandError("set BACKSTRONG_ADMIN_PASSWORD or run in a terminal to be prompted")
        password = getpass.getpass(f"Password for {email}: ")
        if getpass.getpass("Repeat it: ") != password:
            raise CommandError("the passwords differ")
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise CommandError(f"the password must be {PASSWORD_MIN}-{PASSWORD_MAX} characters")
    return password


def cmd_create_admin(args: argparse.Namespace) -> None:
    from api.services import accounts

    try:
        email = validate_email(args.email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise CommandError(f"not an email address: {exc}") from exc
    settings = _settings()
    engine, passwords = _account_tools(settings)
    try:
        _require_head(engine)
        with Session(engine, expire_on_commit=False) as session:
            existing = accounts.find_user_by_email(session, email)
            if existing is not None:
                raise CommandError(
                    f"{email} already has an account (role {existing.role}); "
                    "use `backstrong set-role` to change it"
                )
            password = _read_password(email)
            user = accounts.create_user(session, passwords, email, password, "admin", utcnow())
    except SQLAlchemyError as exc:
        raise _db_error(exc) from exc
    finally:
        engine.dispose()
    print(f"create-admin: {user.email} is an admin (id {user.id})")


def cmd_set_role(args: argparse.Namespace) -> None:
    from sqlmodel import col, delete

    from api.models import ClinicianInvitation
    from api.services import accounts

    settings = _settings()
    engine = make_engine(settings)
    try:
        _require_head(engine)
        with Session(engine, expire_on_commit=False) as session:
            user = accounts.find_user_by_email(session, args.email)
            if user is None:
                raise CommandError(f"no account with email {args.email}")
            before = user.role
            user.role = args.role
            user.updated_at = utcnow()
            session.add(user)
            withdrawn = 0
            if before == "clinician" and args.role != "clinician":
                # Codes minted as a clinician would otherwise link patients again the day
                # the account is made a clinician once more.
                withdrawn = session.exec(
                    delete(ClinicianInvitation).where(
                        col(ClinicianInvitation.clinician_id) == user.id,
                        col(ClinicianInvitation.used_at).is_(None),
                    )
                ).rowcount
            session.commit()
    except SQLAlchemyError as exc:
        raise _db_error(exc) from exc
    finally:
        engine.dispose()
    print(f"set-role: {user.email} {before} -> {args.role}")
    if withdrawn:
        print(f"set-role: {withdrawn} unused invitation code(s) withdrawn")


def _prepare_metrics(workers: int) -> None:
    from api.metrics import MULTIPROC_ENV, clear_multiprocess_dir, multiprocess_dir

    directory = multiprocess_dir()
    if directory is None:
        if workers > 1:
            print(
                f"serve: note: {MULTIPROC_ENV} is not set, so /metrics counts only the "
                "worker that answers each scrape",
                file=sys.stderr,
            )
        return
    # Emptied even for one worker: a previous run's files would be summed into this
    # run's counts. This runs once, in the parent, before any worker writes.
    try:
        removed = clear_multiprocess_dir(directory)
    except OSError as exc:
        raise CommandError(f"{MULTIPROC_ENV}={directory}: {exc.strerror or exc}") from exc
    print(f"serve: metrics shared by all workers in {directory} ({removed} stale file(s) removed)")


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    settings = _settings()  # fail fast, in one line, before uvicorn starts
    workers = args.workers or settings.workers
    print(f"serve: http://{args.host}:{args.port} ({workers} worker(s), env={settings.env})")
    if settings.metrics_enabled:
        _prepare_metrics(workers)
    uvicorn.run(
        "api.main:app",
        host=args.host,
        port=args.port,
        workers=workers,
        timeout_keep_alive=settings.keep_alive_seconds,
        timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
        log_level=settings.log_level.lower(),
        # The app writes its own JSON access log (api.access), without query strings.
        access_log=False,
        proxy_headers=True,
        # No "server: uvicorn" banner on every response.
        server_header=False,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


OUTBOX_KEEP_SENT = timedelta(days=30)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def cmd_outbox(args: argparse.Namespace) -> None:
    """Hand queued messages to a mailer: one JSON line each on stdout, oldest first, then
    mark them sent (printed before the mark is committed: a message may come twice, never
    not at all). Sent ones are forgotten after 30 days."""
    from sqlmodel import col, delete, select, update

    from api.models import OutboxMessage

    engine = make_engine(_settings())
    try:
        _require_head(engine)
        with Session(engine) as session:
            query = (
                select(OutboxMessage)
                .where(col(OutboxMessage.sent_at).is_(None))
                .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
                .limit(args.limit)
            )
            if engine.dialect.name == "postgresql":
                # Two mailers draining at once take different messages.
                query = query.with_for_update(skip_locked=True)
            rows = session.exec(query).all()
            for row in rows:
                line = {
                    "id": str(row.id),
                    "to": row.recipient,
                    "kind": row.kind,
                    "created_at": row.created_at.isoformat(),
                }
                print(json.dumps(line), flush=True)
            if not args.peek:
                now = utcnow()
                ids = [row.id for row in rows]
                if ids:
                    session.exec(
                        update(OutboxMessage)
                        .where(col(OutboxMessage.id).in_(ids))
                        .values(sent_at=now)
                    )
                session.exec(
                    delete(OutboxMessage).where(col(OutboxMessage.sent_at) < now - OUTBOX_KEEP_SENT)
                )
                session.commit()
    except SQLAlchemyError as exc:
        raise _db_error(exc) from exc
    finally:
        engine.dispose()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="backstrong", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the API with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", type=int, default=None, help="default: BACKSTRONG_WORKERS, else 1"
    )
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="upgrade the database to the latest migration")
    migrate.set_defaults(func=cmd_migrate)

    seed = sub.add_parser("seed", help="upsert the exercise catalog from seed_data/")
    seed.add_argument("--force", action="store_true", help="overwrite admin edits")
    seed.add_argument("--dir", help="seed folder (default: the project's seed_data/)")
    seed.set_defaults(func=cmd_seed)

    check = sub.add_parser("check", help="database reachable and migrations at head")
    check.set_defaults(func=cmd_check)

    admin = sub.add_parser(
        "create-admin",
        help="create an admin account (password from BACKSTRONG_ADMIN_PASSWORD or a prompt)",
    )
    admin.add_argument("email")
    admin.set_defaults(func=cmd_create_admin)

    role = sub.add_parser("set-role", help="change an account's role")
    role.add_argument("email")
    role.add_argument("role", choices=ROLES)
    role.set_defaults(func=cmd_set_role)

    outbox = sub.add_parser(
        "outbox",
        help="print queued messages (JSON lines: id, to, kind, created_at) for a mailer, "
        "and mark them sent",
    )
    outbox.add_argument("--limit", type=_positive, default=1000, help="at most this many")
    outbox.add_argument("--peek", action="store_true", help="print only; leave them queued")
    outbox.set_defaults(func=cmd_outbox)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], None] = args.func
    try:
        func(args)
    except CommandError as exc:
        print(f"backstrong {args.command}: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
