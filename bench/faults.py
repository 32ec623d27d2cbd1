"""Faults under load: ``python -m bench.faults``.

Runs everything on a private, throwaway PostgreSQL cluster (initdb into a temporary
directory, its own loopback port; deleted afterwards), so stopping the database never
touches the shared server. ``backstrong serve --workers N`` serves it, and simulated
mobile apps and wearables write sessions, logs, check-ins and uploads, retrying with the
same ids and Idempotency-Keys on connection errors and 503s, as the apps do.

1. A worker is killed with SIGKILL in the middle of a burst of logs and uploads. uvicorn's
   supervisor starts a new one; clients whose requests died retry. Afterwards every
   acknowledged write must be stored exactly once, and nothing half-written.
2. PostgreSQL is stopped (``pg_ctl stop -m fast``) for 10 s mid-run and started again.
   During the outage the API must answer 503 problem+json promptly (the longest answer
   is measured), then recover by itself, without a restart of the API; every
   acknowledged write must survive.

Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench import stack
from bench.workload import (
    Check,
    Client,
    Ledger,
    MobileApp,
    Policy,
    Stats,
    Wearable,
    drive,
    endpoint_table,
    error_summary,
    pct,
    reconcile,
    reconciliation_table,
)

# During the outage clients retry a 503 after at most this long (not the 5 s Retry-After),
# so the outage is sampled densely.
OUTAGE_RETRY_CAP = 0.5
SERVER_LOG = Path(tempfile.gettempdir()) / "backstrong-faults-server.log"
UPLOADS = "POST /v1/wearable/uploads"
# An answer slower than this during the outage counts as a hang.
PROMPT_SECONDS = 3.0


class Logger(MobileApp):
    """A mobile app that only trains: session, check-in, log, check-in, again."""

    async def run(self, deadline: float) -> None:
        self.etags = {}
        while time.monotonic() < deadline:
            await self.train()
            await self.think()


def clients_for(
    port: int,
    accounts: list[stack.Account],
    mobiles: int,
    stats: Stats,
    ledger: Ledger,
    policy: Policy,
    seed: int,
) -> list[Client]:
    return [
        (Logger if n < mobiles else Wearable)(port, a, stats, ledger, policy, seed=seed + n)
        for n, a in enumerate(accounts)
    ]


def wait_for(predicate: Callable[[], bool], timeout: float, step: float = 0.1) -> float | None:
    """Seconds until predicate() held, or None after timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(step)
    return None


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{stack.HOST}:{port}/readyz", timeout=2) as r:
            return bool(r.status == 200)
    except (OSError, urllib.error.HTTPError):
        return False


class PidWatch:
    """Notes every change in the set of API worker processes, with its time."""

    def __init__(self, server: stack.Server) -> None:
        self.server = server
        self.changes: list[tuple[float, list[int]]] = [(time.monotonic(), server.worker_pids())]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            pids = self.server.worker_pids()
            if pids != self.changes[-1][1]:
                self.changes.append((time.monotonic(), pids))

    def between(self, start: float, end: float) -> list[str]:
        out = []
        for (_, before), (t, after) in itertools.pairwise(self.changes):
            if start <= t <= end:
                gone = sorted(set(before) - set(after))
                new = sorted(set(after) - set(before))
                out.append(f"+{t - start:.1f}s: gone {gone}, new {new}")
        return out

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def retry_figures(stats: Stats) -> str:
    waits = ", ".join(f"{k} {v:.1f}s" for k, v in sorted(stats.longest_retry.items()))
    conflicts = stats.endpoints[UPLOADS].statuses.get(409, 0) if UPLOADS in stats.endpoints else 0
    return (
        f"longest wait from first try to answer, among retried requests: {waits or 'none'}; "
        f"uploads answered 409 (key still in flight) and retried: {conflicts}"
    )


def print_checks(title: str, checks: list[Check]) -> None:
    print(f"\n{title}")
    print("\n".join(reconciliation_table(checks)))


def kill_worker(
    server: stack.Server,
    accounts: list[stack.Account],
    mobiles: int,
    ledger: Ledger,
    seconds: float,
    think_ms: float,
) -> tuple[Stats, dict[str, object]]:
    stats = Stats()
    policy = Policy(think_seconds=think_ms / 1000)
    clients = clients_for(server.port, accounts, mobiles, stats, ledger, policy, seed=1000)
    before = server.worker_pids()
    facts: dict[str, object] = {"workers before": before}

    async def run() -> float:
        job = asyncio.ensure_future(drive(clients, seconds))
        await asyncio.sleep(seconds / 3)
        victim = before[0]
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        facts["killed"] = victim
        facts["killed at (s into the burst)"] = round(killed_at - stats.started, 1)
        while time.monotonic() - killed_at < 30:
            now = server.worker_pids()
            if len(now) == server.workers and victim not in now:
                facts["replacement up after (s)"] = round(time.monotonic() - killed_at, 1)
                facts["workers after"] = now
                break
            await asyncio.sleep(0.1)
        return await job

    span = asyncio.run(run())
    facts["span"] = span
    return stats, facts


def db_outage(
    server: stack.Server,
    cluster: stack.PrivateCluster,
    accounts: list[stack.Account],
    mobiles: int,
    ledger: Ledger,
    seconds: float,
    outage: float,
    think_ms: float,
) -> tuple[Stats, dict[str, float]]:
    stats = Stats()
    policy = Policy(think_seconds=think_ms / 1000, retry_after_cap=OUTAGE_RETRY_CAP)
    clients = clients_for(server.port, accounts, mobiles, stats, ledger, policy, seed=2000)
    marks: dict[str, float] = {}

    async def run() -> float:
        job = asyncio.ensure_future(drive(clients, seconds))
        await asyncio.sleep(max(2.0, (seconds - outage) / 3))
        marks["stop"] = time.monotonic()
        await asyncio.to_thread(cluster.stop, "fast")
        marks["stopped"] = time.monotonic()
        await asyncio.sleep(outage)
        marks["start"] = time.monotonic()
        await asyncio.to_thread(cluster.start)
        marks["started"] = time.monotonic()
        return await job

    marks["span"] = asyncio.run(run())
    return stats, marks


def outage_figures(stats: Stats, marks: dict[str, float]) -> list[str]:
    down, up = marks["stop"], marks["started"]
    during = [(s, e, label, status) for s, e, label, status in stats.events if down <= e <= up]
    by_status = Counter(status for *_, status in during)
    latencies = [e - s for s, e, _, status in during if status]
    unavailable = [e - s for s, e, _, status in during if status == 503]
    slow = [lat for lat in latencies if lat > PROMPT_SECONDS]
    # Sent while the database was down: how long the API itself takes to say so (answers
    # above also include requests queued behind the load before the stop).
    sent_down = [
        e - s
        for s, e, _, status in stats.events
        if marks["stopped"] <= s <= marks["start"] and status
    ]
    # Recovery: the first acknowledged write sent after the database was back.
    recovered = [e for s, e, label, status in stats.events if s >= up and 200 <= status < 300]
    lines = [
        f"pg_ctl stop -m fast took {marks['stopped'] - marks['stop']:.1f}s; database down "
        f"{marks['start'] - marks['stopped']:.1f}s; pg_ctl start took "
        f"{marks['started'] - marks['start']:.1f}s",
        f"answers during the outage ({up - down:.1f}s window): "
        + ", ".join(f"{'conn lost' if s == 0 else s}: {n}" for s, n in sorted(by_status.items())),
        f"  latency of those answers: p50 {pct(latencies, 0.5):.1f} ms, "
        f"p99 {pct(latencies, 0.99):.1f} ms, max {pct(latencies, 1.0):.1f} ms; "
        f"503s: p50 {pct(unavailable, 0.5):.1f} ms, max {pct(unavailable, 1.0):.1f} ms; "
        f"slower than {PROMPT_SECONDS:g}s: {len(slow)}",
        f"  requests sent while it was down: {len(sent_down)}, answered in p50 "
        f"{pct(sent_down, 0.5):.1f} ms, p99 {pct(sent_down, 0.99):.1f} ms, "
        f"max {pct(sent_down, 1.0):.1f} ms",
        "  first acknowledged write after the database was back: "
        + (f"{min(recovered) - up:.2f}s after pg_ctl start returned" if recovered else "NONE"),
    ]
    return lines


def problem_shape(port: int) -> str:
    """One 503 body as a client sees it (asked while the database is down)."""
    req = urllib.request.Request(f"http://{stack.HOST}:{port}/v1/exercises")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return f"{r.status} (not an error)"
    except urllib.error.HTTPError as exc:
        body = json.loads(exc.read())
        return (
            f"{exc.code} {exc.headers.get('content-type')} type={body.get('type')} "
            f"Retry-After={exc.headers.get('retry-after')}"
        )
    except OSError as exc:
        return f"no answer: {exc}"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__)
    parser.add_argument("--clients", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=30.0, help="each phase's load")
    parser.add_argument("--outage", type=float, default=10.0, help="seconds without PostgreSQL")
    parser.add_argument("--think-ms", type=float, default=100.0)
    parser.add_argument("--port", type=int, default=55432, help="first port to try for the cluster")
    args = parser.parse_args()
    wearables = max(1, args.clients // 4)
    mobiles = args.clients - wearables

    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    cluster = stack.PrivateCluster(stack.free_port(args.port))
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        try:
            cluster.init()
            cluster.start()
            print(f"private PostgreSQL cluster on 127.0.0.1:{cluster.port} in {cluster.dir}")
            with stack.fresh_database(cluster.url, prefix="backstrong_faults") as db:
                env = stack.server_env(
                    db, args.workers, pool_size=8, max_overflow=4, log_level="INFO"
                )
                stack.cli(env, "migrate")
                stack.cli(env, "seed")
                accounts = stack.make_accounts(db, env, args.clients, admins=0)
                server = stack.Server(env, args.workers, Path(tmp) / "server.log")
                try:
                    server.wait_ready()
                    asyncio.run(stack.sign_in(server.port, accounts))
                    asyncio.run(stack.add_devices(server.port, accounts[mobiles:]))
                    user_ids = [a.user_id for a in accounts]
                    ledger = Ledger()
                    print(
                        f"server: {args.workers} workers on 127.0.0.1:{server.port}; "
                        f"{mobiles} mobile apps logging, {wearables} wearables uploading"
                    )

                    watch = PidWatch(server)
                    print(f"\n== 1. kill -9 one API worker during a {args.seconds:g}s burst")
                    phase_start = time.monotonic()
                    stats, facts = kill_worker(
                        server, accounts, mobiles, ledger, args.seconds, args.think_ms
                    )
                    span = float(str(facts.pop("span")))
                    for name, value in facts.items():
                        print(f"{name}: {value}")
                    print("\n".join(endpoint_table(stats, span)))
                    # 409 + Retry-After is how an upload whose first try died with the
                    # worker is answered until the key's 60 s in-flight lease runs out.
                    errors, server_errors = error_summary(stats, {UPLOADS: {409}})
                    lost = sum(e.connection_errors for e in stats.endpoints.values())
                    print(
                        f"connection errors (retried with the same ids/keys): {lost}; "
                        f"unexpected statuses: {dict(errors) or 'none'}; 5xx: {server_errors}; "
                        f"gave up: {sum(stats.gave_up.values())}; "
                        f"replay mismatches: {stats.replay_mismatches}"
                    )
                    print(retry_figures(stats))
                    print(
                        "worker changes: "
                        + ("; ".join(watch.between(phase_start, time.monotonic())) or "none")
                    )
                    checks = reconcile(db, ledger, user_ids)
                    print_checks("reconciliation after the kill:", checks)
                    failed |= bool(errors) or not all(c.ok for c in checks)
                    failed |= "replacement up after (s)" not in facts or bool(stats.gave_up)

                    print(f"\n== 2. PostgreSQL stopped for {args.outage:g}s mid-run")
                    wait_for(lambda: ready(server.port), 30)
                    pids_before = server.worker_pids()
                    phase_start = time.monotonic()
                    stats, marks = db_outage(
                        server, cluster, accounts, mobiles, ledger, args.seconds + args.outage,
                        args.outage, args.think_ms,
                    )  # fmt: skip
                    for line in outage_figures(stats, marks):
                        print(line)
                    print("\n".join(endpoint_table(stats, marks["span"])))
                    errors, server_errors = error_summary(stats, {"*": {503}, UPLOADS: {409}})
                    print(
                        f"unexpected statuses (503 allowed): {dict(errors) or 'none'}; "
                        f"other 5xx: {server_errors}; gave up: {sum(stats.gave_up.values())}"
                    )
                    print(retry_figures(stats))
                    pids_after = server.worker_pids()
                    changes = watch.between(marks["stop"], time.monotonic())
                    print(
                        f"API supervisor {server.proc.pid} "
                        + ("still running" if server.proc.poll() is None else "EXITED")
                        + f"; workers before {pids_before}, after {pids_after}; changes since "
                        "the stop: " + ("; ".join(changes) or "none")
                    )
                    print(f"/readyz after: {'200' if ready(server.port) else 'NOT READY'}")
                    checks = reconcile(db, ledger, user_ids)
                    print_checks("reconciliation after the outage (both phases):", checks)
                    during = [
                        e - s
                        for s, e, _, status in stats.events
                        if status and marks["stopped"] <= s <= marks["start"]
                    ]
                    failed |= bool(errors) or not all(c.ok for c in checks)
                    failed |= server.proc.poll() is not None or not ready(server.port)
                    failed |= any(lat > PROMPT_SECONDS for lat in during) or bool(stats.gave_up)
                    failed |= bool(changes)
                    watch.stop()

                    print("\n== a 503 as clients see it (database stopped again briefly)")
                    cluster.stop("fast")
                    print(problem_shape(server.port))
                    cluster.start()
                    wait_for(lambda: ready(server.port), 30)
                finally:
                    server.stop()
                    server.keep_log(SERVER_LOG)
                    print(f"\nserver log: {SERVER_LOG}")
        finally:
            cluster.destroy()
    print("\nresult: " + ("FAIL" if failed else "ok"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
