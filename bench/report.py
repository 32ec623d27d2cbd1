"""Per-endpoint tables and error counts of a load run."""

from __future__ import annotations

from collections import Counter

from bench.records import EXPECTED, Stats


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def endpoint_table(stats: Stats, span: float) -> list[str]:
    lines = [
        f"{'endpoint':28} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'conn err':>8}  statuses"
    ]
    total = 0
    for label in sorted(stats.endpoints):
        e = stats.endpoints[label]
        count = sum(e.statuses.values())
        total += count
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(e.statuses.items()))
        lines.append(
            f"{label:28} {count:9d} {count / span:8.1f} {pct(e.latencies, 0.5):8.1f} "
            f"{pct(e.latencies, 0.99):8.1f} {pct(e.latencies, 1.0):8.1f} "
            f"{e.connection_errors:8d}  {statuses}"
        )
    lines.append(f"{'all':28} {total:9d} {total / span:8.1f}")
    return lines


def error_summary(
    stats: Stats, allowed: dict[str, set[int]] | None = None
) -> tuple[Counter[int], int]:
    """Unexpected statuses by code, and the 5xx among them (`allowed`: more expected
    statuses per endpoint, `*` for all)."""
    allowed = allowed or {}
    errors: Counter[int] = Counter()
    for label, e in stats.endpoints.items():
        ok = EXPECTED.get(label, {200}) | allowed.get(label, set()) | allowed.get("*", set())
        for status, n in e.statuses.items():
            if status not in ok:
                errors[status] += n
    return errors, sum(n for s, n in errors.items() if s >= 500)


def answered(stats: Stats, below: int = 600) -> int:
    """Requests answered with a status under `below` (500: leave out the 5xx)."""
    return sum(
        n for e in stats.endpoints.values() for status, n in e.statuses.items() if status < below
    )
