"""Mixed load against the production setup: ``python -m bench.load``.

Creates a fresh database (on the PostgreSQL at 127.0.0.1:5432, dropped afterwards, or a
SQLite file in a temporary directory), migrates and seeds it, creates the accounts, an
admin and devices, starts ``backstrong serve --workers N`` on a free loopback port, and
drives it with simulated clients for a while: mobile apps (catalog, routine, build a
session, log it, check in before and after), wearables (uploads with Idempotency-Key,
some sent twice) and admins (catalog edits with If-Match). Prints throughput, p50/p99 per
endpoint, errors by status, and whether every acknowledged write is in the database
exactly once.

With ``--base DIR`` the same workload runs first against the checkout at DIR (another
git worktree, served by its own code), then against this one, each on a fresh database,
and the ratio of their throughputs is printed.

Exit status 1 on any 5xx, unexpected status or reconciliation mismatch in this
checkout's run (a base run's result is printed, not counted).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import stack
from bench.loadrun import Run, report, run


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2, help="API worker processes")
    parser.add_argument(
        "--think-ms", type=float, default=100.0, help="mean pause between a client's requests"
    )
    parser.add_argument("--pool-size", type=int, default=8, help="per worker")
    parser.add_argument("--max-overflow", type=int, default=4, help="per worker")
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--server", default=stack.SHARED_SERVER, help="PostgreSQL to create on")
    parser.add_argument("--seed", type=int, default=0, help="of the clients' random choices")
    parser.add_argument(
        "--base",
        type=Path,
        help="another checkout (git worktree) to run the same workload against first",
    )
    return parser.parse_args()


def compare(before: Run, after: Run) -> str:
    def ratio(a: float, b: float) -> str:
        return f"{b / a:.2f}x" if a else "n/a"

    return (
        f"throughput after / before: {ratio(before.throughput, after.throughput)} "
        f"({before.throughput:.1f} -> {after.throughput:.1f} req/s); without 5xx answers "
        f"{ratio(before.throughput_without_5xx, after.throughput_without_5xx)} "
        f"({before.throughput_without_5xx:.1f} -> {after.throughput_without_5xx:.1f} req/s)"
    )


def main() -> int:
    args = parse()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    runs: list[Run] = []
    if args.base:
        base = stack.Code.at(args.base.resolve())
        if not (base.root / "api" / "cli.py").is_file():
            sys.exit(f"--base {args.base}: no api/cli.py there")
        runs.append(run(f"before: {base.root}, {args.database}", base, args))
        print("\n" + "\n".join(report(runs[-1])) + "\n")
    name = f"after: this checkout, {args.database}" if args.base else args.database
    runs.append(run(name, stack.THIS, args))
    print("\n" + "\n".join(report(runs[-1])))
    if args.base:
        print("\n" + compare(runs[0], runs[-1]))
    return 1 if runs[-1].failed else 0


if __name__ == "__main__":
    sys.exit(main())
