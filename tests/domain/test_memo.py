"""What is derived from a shared check-in or log is kept on it, invisibly."""

from __future__ import annotations

from dataclasses import asdict, fields, replace
from datetime import UTC, datetime

from api.domain.evidence import _checkin_key, canonical_checkins
from api.domain.types import CheckIn

AT = datetime(2026, 3, 2, 8, tzinfo=UTC)


def test_a_kept_order_key_is_no_field_and_never_carried_into_a_copy() -> None:
    c = CheckIn(id="a", recorded_at=AT, phase="daily", pain=3, locations=frozenset({"calf"}))
    key = _checkin_key(c)
    assert _checkin_key(c) is key
    assert c.leg_symptoms == frozenset({"calf"})
    assert set(asdict(c)) == {f.name for f in fields(c)}
    same = CheckIn(id="a", recorded_at=AT, phase="daily", pain=3, locations=frozenset({"calf"}))
    assert c == same and hash(c) == hash(same)
    worse = replace(c, pain=9, locations=frozenset())
    assert _checkin_key(worse) != key
    assert worse.leg_symptoms == frozenset()
    # One per id, the greatest by the order: the copy's own key, not the original's.
    assert canonical_checkins([worse, c]) == canonical_checkins([c, worse]) == [worse]
