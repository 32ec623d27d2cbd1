"""How long an answer holds with time alone (api/domain/horizon.py), over generated
histories: reads serve a cached evaluation until then, so a horizon too late would show
stale safety advice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from api.domain.horizon import advice_at, holds_until
from api.domain.progression_rules import FRESH_EVIDENCE
from api.domain.rules import evaluate
from api.domain.types import CheckIn, History
from tests.domain.test_properties import CATALOG, CHECKS, DAYS, NOW, Scenario, histories

MICRO = timedelta(microseconds=1)


@CHECKS
@given(histories, st.integers(0, DAYS * 24 * 60), st.data())
def test_an_answer_holds_with_time_until_its_horizon(
    scenario: Scenario, back: int, data: st.DataObject
) -> None:
    # Evaluated up to 40 days before the history ends, so data may lie after `now`.
    now = NOW - timedelta(minutes=back)
    history = scenario.history()
    first = evaluate(history, now, catalog=CATALOG)
    until = holds_until(history, now)
    assert until >= now
    if until == now:
        return
    span = (until - now) // MICRO
    moments = {
        now + MICRO * data.draw(st.integers(1, span - 1)) if span > 1 else now,
        until - MICRO,
        now + (until - now) / 2,
    }
    for t in sorted(moments):
        assert evaluate(history, t, catalog=CATALOG) == advice_at(first, t), t


def test_the_horizon_is_where_fresh_evidence_runs_out() -> None:
    """A daily check-in 70 h ago is fresh for 2 h more; then the advice turns stale."""
    at = datetime(2026, 6, 15, 11, 0, tzinfo=UTC)
    history = History(checkins=(CheckIn("c", at, "daily", 2),), timezone="UTC")
    now = at + timedelta(hours=70)
    until = holds_until(history, now)
    assert until == at + FRESH_EVIDENCE
    before, after = evaluate(history, until - MICRO), evaluate(history, until + MICRO)
    assert not before.stale and after.stale


def test_the_horizon_is_at_most_the_next_local_midnight() -> None:
    now = datetime(2026, 6, 15, 21, 30, tzinfo=UTC)  # 09:30 the next day in Auckland
    assert holds_until(History(timezone="UTC"), now) == datetime(2026, 6, 16, tzinfo=UTC)
    auckland = holds_until(History(timezone="Pacific/Auckland"), now)
    assert auckland == datetime(2026, 6, 16, 12, 0, tzinfo=UTC)  # midnight NZST


def test_a_check_in_due_now_stays_due_at_each_later_read() -> None:
    now = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
    first = evaluate(History(), now)
    assert first.next_checkin_due_at == now
    later = now + timedelta(minutes=5)
    assert advice_at(first, later) == evaluate(History(), later)
