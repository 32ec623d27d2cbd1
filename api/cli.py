"""The ``backstrong`` command: serve, migrate, seed, check.

Each subcommand prints what it did and exits non-zero with a one-line reason on
failure, so it can gate container start-up and CI steps.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from api.config import Settings
from api.db import make_engine


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
        with Session(engine) as session:
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


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    settings = _settings()  # fail fast, in one line, before uvicorn starts
    print(f"serve: http://{args.host}:{args.port} ({args.workers} worker(s), env={settings.env})")
    uvicorn.run(
        "api.main:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="backstrong", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the API with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="upgrade the database to the latest migration")
    migrate.set_defaults(func=cmd_migrate)

    seed = sub.add_parser("seed", help="upsert the exercise catalog from seed_data/")
    seed.add_argument("--force", action="store_true", help="overwrite admin edits")
    seed.add_argument("--dir", help="seed folder (default: the project's seed_data/)")
    seed.set_defaults(func=cmd_seed)

    check = sub.add_parser("check", help="database reachable and migrations at head")
    check.set_defaults(func=cmd_check)
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
