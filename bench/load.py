"""Mixed load against the production setup: ``python -m bench.load``.

Creates a fresh database on the PostgreSQL at 127.0.0.1:5432 (dropped afterwards),
migrates and seeds it, creates the accounts, an admin and devices, starts
``backstrong serve --workers N`` on a free loopback port, and drives it with simulated
clients for a while: mobile apps (catalog, routine, build a session, log it, check in
before and after), wearables (uploads with Idempotency-Key, some sent twice) and admins
(catalog edits with If-Match). Prints throughput, p50/p99 per endpoint, errors by status,
and whether every acknowledged write is in the database exactly once.

Exit status 1 on any 5xx, unexpected status or reconciliation mismatch.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from bench import stack
from bench.workload import (
    Admin,
    Client,
    Ledger,
    MobileApp,
    Policy,
    Stats,
    Wearable,
    drive,
    endpoint_table,
    error_summary,
    reconcile,
    reconciliation_table,
)


def split(clients: int) -> tuple[int, int, int]:
    """About 1 in 5 clients is a wearable; one or two admins."""
    admins = 1 if clients < 50 else 2
    wearables = max(1, (clients - admins) // 5)
    return clients - admins - wearables, wearables, admins


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2, help="API worker processes")
    parser.add_argument(
        "--think-ms", type=float, default=100.0, help="mean pause between a client's requests"
    )
    parser.add_argument("--pool-size", type=int, default=8, help="per worker")
    parser.add_argument("--max-overflow", type=int, default=4, help="per worker")
    parser.add_argument("--server", default=stack.SHARED_SERVER, help="PostgreSQL to create on")
    args = parser.parse_args()
    mobiles, wearables, admins = split(args.clients)

    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    with stack.fresh_database(args.server) as db, tempfile.TemporaryDirectory() as tmp:
        env = stack.server_env(db, args.workers, args.pool_size, args.max_overflow)
        stack.cli(env, "migrate")
        stack.cli(env, "seed")
        accounts = stack.make_accounts(db, env, mobiles + wearables, admins)
        server = stack.Server(env, args.workers, Path(tmp) / "server.log")
        try:
            server.wait_ready()
            print(
                f"server: backstrong serve, {args.workers} workers on 127.0.0.1:{server.port}, "
                f"pool {args.pool_size}+{args.max_overflow} per worker; database {db}"
            )
            asyncio.run(stack.sign_in(server.port, accounts))
            asyncio.run(stack.add_devices(server.port, accounts[mobiles : mobiles + wearables]))
            stats, ledger = Stats(), Ledger()
            policy = Policy(think_seconds=args.think_ms / 1000)
            clients: list[Client] = []
            for n, account in enumerate(accounts):
                kind = MobileApp if n < mobiles else Wearable if n < mobiles + wearables else Admin
                clients.append(kind(server.port, account, stats, ledger, policy, seed=n))
            print(
                f"driving {mobiles} mobile apps, {wearables} wearables, {admins} admins "
                f"for {args.seconds:g}s (think time ~{args.think_ms:g} ms)"
            )
            span = asyncio.run(drive(clients, args.seconds))
        finally:
            server.stop()
        user_ids = [a.user_id for a in accounts]
        checks = reconcile(db, ledger, user_ids)

        print()
        print("\n".join(endpoint_table(stats, span)))
        errors, server_errors = error_summary(stats)
        print(
            f"\nspan {span:.1f}s; unexpected statuses: "
            + (", ".join(f"{s}: {n}" for s, n in sorted(errors.items())) or "none")
            + f"; 5xx: {server_errors}; connection errors: "
            f"{sum(e.connection_errors for e in stats.endpoints.values())}; "
            f"gave up: {sum(stats.gave_up.values())}"
        )
        print(
            "deliberate retries answered as replays: "
            + ", ".join(f"{k}: {n}" for k, n in sorted(stats.replays.items()))
            + f"; replay mismatches: {stats.replay_mismatches}"
        )
        for line in stats.unexpected[:10]:
            print(f"  unexpected: {line}")
        print()
        print("\n".join(reconciliation_table(checks)))
        failed = bool(errors) or stats.replay_mismatches or not all(c.ok for c in checks)
        if server_errors:
            print("\nserver log (tail):\n" + server.log_tail())
        print("\nresult: " + ("FAIL" if failed else "ok"))
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
