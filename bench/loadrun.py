"""One run of the mixed load (bench/load.py) against one checkout, on a fresh database of
its own: set up, serve, drive, reconcile, and the report of it."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import stack
from bench.reconcile import Check, reconcile, reconciliation_table
from bench.records import Ledger, Stats
from bench.report import answered, endpoint_table, error_summary
from bench.workload import Admin, Client, MobileApp, Policy, Wearable, drive

# What the server logs when a SQLite writer could not get the lock (issue 16).
LOCKED = "database is locked"


def split(clients: int) -> tuple[int, int, int]:
    """About 1 in 5 clients is a wearable; one or two admins."""
    admins = 1 if clients < 50 else 2
    wearables = max(1, (clients - admins) // 5)
    return clients - admins - wearables, wearables, admins


@contextmanager
def fresh(args: argparse.Namespace) -> Iterator[str]:
    if args.database == "sqlite":
        with stack.fresh_sqlite() as url:
            yield url
    else:
        with stack.fresh_database(args.server) as url:
            yield url


@dataclass
class Run:
    name: str
    stats: Stats
    span: float
    checks: list[Check]
    locked_in_log: int
    log_tail: str

    @property
    def throughput(self) -> float:
        return answered(self.stats) / self.span

    @property
    def throughput_without_5xx(self) -> float:
        return answered(self.stats, below=500) / self.span

    @property
    def failed(self) -> bool:
        errors, _ = error_summary(self.stats)
        return bool(errors) or bool(self.stats.replay_mismatches) or not self.reconciled

    @property
    def reconciled(self) -> bool:
        return all(c.ok for c in self.checks)


def run(name: str, code: stack.Code, args: argparse.Namespace) -> Run:
    mobiles, wearables, admins = split(args.clients)
    with fresh(args) as db, tempfile.TemporaryDirectory() as tmp:
        env = stack.server_env(db, args.workers, args.pool_size, args.max_overflow)
        stack.cli(env, "migrate", code=code)
        stack.cli(env, "seed", code=code)
        accounts = stack.make_accounts(db, env, mobiles + wearables, admins, code=code)
        server = stack.Server(env, args.workers, Path(tmp) / "server.log", code=code)
        try:
            server.wait_ready()
            print(
                f"[{name}] backstrong serve from {code.root}, {args.workers} workers on "
                f"127.0.0.1:{server.port}, pool {args.pool_size}+{args.max_overflow} per "
                f"worker; database {db}"
            )
            asyncio.run(stack.sign_in(server.port, accounts))
            asyncio.run(stack.add_devices(server.port, accounts[mobiles : mobiles + wearables]))
            stats, ledger = Stats(), Ledger()
            policy = Policy(think_seconds=args.think_ms / 1000)
            clients: list[Client] = []
            for n, account in enumerate(accounts):
                kind = MobileApp if n < mobiles else Wearable if n < mobiles + wearables else Admin
                clients.append(
                    kind(server.port, account, stats, ledger, policy, seed=args.seed + n)
                )
            print(
                f"[{name}] driving {mobiles} mobile apps, {wearables} wearables, {admins} "
                f"admins for {args.seconds:g}s (think time ~{args.think_ms:g} ms)"
            )
            span = asyncio.run(drive(clients, args.seconds))
        finally:
            server.stop()
        checks = reconcile(db, ledger, [a.user_id for a in accounts])
        return Run(name, stats, span, checks, server.log_lines_with(LOCKED), server.log_tail())


def report(result: Run) -> list[str]:
    stats = result.stats
    errors, server_errors = error_summary(stats)
    unavailable = stats.database_unavailable
    lines = [f"== {result.name}", *endpoint_table(stats, result.span)]
    lines.append(
        f"\nspan {result.span:.1f}s; unexpected statuses: "
        + (", ".join(f"{s}: {n}" for s, n in sorted(errors.items())) or "none")
        + f"; 5xx: {server_errors}; connection errors: "
        f"{sum(e.connection_errors for e in stats.endpoints.values())}; "
        f"gave up: {sum(stats.gave_up.values())}"
    )
    lines.append(
        f"503 /problems/database-unavailable: {sum(unavailable.values())}"
        + "".join(f"; {label}: {n}" for label, n in sorted(unavailable.items()))
        + f"; server log lines with {LOCKED!r}: {result.locked_in_log}"
    )
    lines.append(
        "deliberate retries answered as replays: "
        + ", ".join(f"{k}: {n}" for k, n in sorted(stats.replays.items()))
        + f"; replay mismatches: {stats.replay_mismatches}"
    )
    lines += [f"  unexpected: {line}" for line in stats.unexpected[:10]]
    lines += ["", *reconciliation_table(result.checks)]
    if server_errors:
        lines.append("\nserver log (tail):\n" + result.log_tail)
    lines.append(f"\nresult ({result.name}): " + ("FAIL" if result.failed else "ok"))
    return lines
