"""Evaluators of F1 and F2: rest pain over days and weeks, by the person's local day.

Their rows, messages and sources are in `api/domain/rule_table.py`. Both read the
daily means of rest-pain check-ins (`daily`, `next_morning`) and stand on the latest
data: days without a check-in never end a flare or a review (ruleset v2, "silence is
not improvement").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import fmean
from typing import Any

from api.domain.evidence import Context, local_day, meaningful_rise, rounded
from api.domain.outcome_rules import function_not_improving
from api.domain.rule import Rule
from api.domain.types import Reason, Status

# F1 (Ostelo 2008 applied to worsening): the last 7 days against the 14 before.
FLARE_RECENT_DAYS = 7
FLARE_BASELINE_DAYS = 14
# With fewer baseline days than this, the baseline is the first readings ever recorded.
FLARE_MIN_BASELINE_DAYS = 2
FIRST_READINGS = 3
# "or rest pain up >= 3 points within 7 days": a rise no mean can hide.
FLARE_JUMP_POINTS = 3
# A flare stands until a later 3-day mean is back within 1 point of its baseline.
SETTLED_DAYS = 3
SETTLED_POINTS = 1
# F2 judges "improvement" by the minimal important change itself (Ostelo 2008), fixed:
# tuning the flare thresholds must never make F2 fire less.
IMPROVEMENT_POINTS = 2.0
IMPROVEMENT_FRACTION = 0.30
# F2: "at least one rest-pain check-in in each week".
REVIEW_MIN_DAYS_PER_WEEK = 1
# docs/clinical.md, Screening: serious-cause risk factors shorten F2's window to 2 weeks.
REVIEW_WEEKS_WITH_RISK_FACTORS = 2


@dataclass(frozen=True)
class Flare:
    began: date
    baseline: float
    baseline_from: str  # "14_days", "first_readings" or "carried"
    recent_mean: float
    jump: float
    last_raised: date  # the latest day whose pain was not back near the baseline


def _baseline(ctx: Context, day: date) -> tuple[float, str] | None:
    daily = ctx.daily
    days = [day - timedelta(days=FLARE_RECENT_DAYS + i) for i in range(FLARE_BASELINE_DAYS)]
    values = [daily[d] for d in days if d in daily]
    if len(values) >= FLARE_MIN_BASELINE_DAYS:
        return fmean(values), "14_days"
    # The first readings ever, but only those from before the day being judged: a day is
    # never its own baseline, and a later reading never moves an earlier day's.
    first = ctx.history.first_rest or tuple(ctx.rest[:FIRST_READINGS])
    earlier = [c for c in first[:FIRST_READINGS] if local_day(c.recorded_at, ctx.tz) < day]
    if not earlier:
        return None
    return fmean(c.pain for c in earlier), "first_readings"


def _raised(ctx: Context, day: date, baseline: float) -> tuple[bool, float, float]:
    """(a flare by day `day`?, the 7-day mean, the rise within the 7 days)."""
    daily = ctx.daily
    window = [day - timedelta(days=i) for i in range(FLARE_RECENT_DAYS)]
    recent = [daily[d] for d in window if d in daily]
    recent_mean = fmean(recent)
    earlier = [daily[d] for d in window[1:] if d in daily]
    jump = daily[day] - min(earlier) if earlier else 0.0
    flare = meaningful_rise(recent_mean - baseline, baseline, ctx.thresholds)
    return flare or jump >= FLARE_JUMP_POINTS, recent_mean, jump


def standing_flare(ctx: Context) -> Flare | None:
    """The flare that stands at the latest data, if any: walked day by day, a flare
    begins on the first raised day and ends when the mean of 3 later days with data is
    back within 1 point of the baseline it began from."""
    daily: Mapping[date, float] = ctx.daily
    days = sorted(daily)
    flare: Flare | None = None
    carried = ctx.history.carried_flare
    if carried is not None and days and carried[0] < days[0]:
        # Begun before the evidence in view: it goes on with the baseline it began from.
        last_week = [days[-1] - timedelta(days=i) for i in range(FLARE_RECENT_DAYS)]
        recent = fmean(daily[d] for d in last_week if d in daily)
        flare = Flare(carried[0], carried[1], "carried", recent, 0.0, carried[0])
    for index, day in enumerate(days):
        if flare is None:
            base = _baseline(ctx, day)
            if base is None:
                continue
            raised, recent_mean, jump = _raised(ctx, day, base[0])
            if raised:
                flare = Flare(day, base[0], base[1], recent_mean, jump, day)
            continue
        if daily[day] > flare.baseline + SETTLED_POINTS:
            flare = Flare(
                flare.began, flare.baseline, flare.baseline_from, flare.recent_mean,
                flare.jump, day,
            )  # fmt: skip
        later = [d for d in days[: index + 1] if d > flare.began][-SETTLED_DAYS:]
        if len(later) == SETTLED_DAYS and (
            fmean(daily[d] for d in later) <= flare.baseline + SETTLED_POINTS
        ):
            flare = None
    return flare


def f1_flare(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    flare = standing_flare(ctx)
    if flare is None:
        return []
    latest = max(ctx.daily)
    # While the latest reading is still raised, the flare is taken to go on until a
    # check-in shows otherwise: silence does not end it.
    until = ctx.today if latest == flare.last_raised else flare.last_raised
    lasted = max((until - flare.began).days + 1, 1)
    evidence: dict[str, Any] = {
        "baseline_mean": rounded(flare.baseline),
        "baseline_from": flare.baseline_from,
        "recent_mean": rounded(flare.recent_mean),
        "rise": rounded(flare.recent_mean - flare.baseline),
        "rise_within_7_days": rounded(flare.jump),
        "flare_began": flare.began.isoformat(),
        "days_lasted": lasted,
        "latest_rest_pain": rounded(ctx.daily[latest]),
        "latest_rest_day": latest.isoformat(),
    }
    exercises = tuple(sorted(d.exercise_slug for d in ctx.doses))
    values = {
        "began": flare.began.isoformat(),
        "days": lasted,
        "baseline": round(flare.baseline, 1),
        "jump": f"{flare.jump:g}",
    }
    # Say which trigger fired: a mean above the usual level, or a quick rise within a week
    # (which can come back to the usual level from below).
    above = meaningful_rise(flare.recent_mean - flare.baseline, flare.baseline, ctx.thresholds)
    lasting = lasted >= ctx.thresholds.flare_days_for_doctor
    key = ("lasting" if lasting else "new") if above else ("jump_lasting" if lasting else "jump")
    if latest != flare.last_raised:
        key = "settling"  # the latest reading is back near the usual level: say so
    # One flare, one easing of the exercises: keyed by the day it began.
    status: Status = "see_doctor" if lasting else "regress"
    return [rule.reason(status, key, evidence, exercises, source=flare.began.isoformat(), **values)]


def f2_no_improvement(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    weeks = int(ctx.thresholds.review_weeks)
    risk = sorted(ctx.history.risk_factors)
    if risk:
        weeks = min(weeks, REVIEW_WEEKS_WITH_RISK_FACTORS)
    # Rest pain, then function or disability measures: either not improving asks for it.
    return rest_pain_not_improving(rule, ctx, weeks, risk) + function_not_improving(
        rule, ctx, weeks, risk
    )


def rest_pain_not_improving(
    rule: Rule, ctx: Context, weeks: int, risk: Sequence[str]
) -> list[Reason]:
    daily, t = ctx.daily, ctx.thresholds
    if not daily:
        return []
    # The weeks end at the latest rest-pain day: a week without check-ins does not end
    # a review that was due.
    last = max(daily)
    means: list[float] = []
    for week in range(weeks):
        days = [last - timedelta(days=7 * week + i) for i in range(7)]
        values = [daily[d] for d in days if d in daily]
        if len(values) < REVIEW_MIN_DAYS_PER_WEEK:
            return []
        means.append(fmean(values))
    latest, first = means[0], means[-1]
    if latest < t.review_min_mean:
        return []
    drop = first - latest
    if drop >= IMPROVEMENT_POINTS or (first > 0 and drop >= first * IMPROVEMENT_FRACTION):
        return []
    evidence: dict[str, Any] = {
        "weekly_means": [rounded(m) for m in reversed(means)],
        "weeks": weeks,
        "latest_rest_day": last.isoformat(),
    }
    if risk:
        evidence["risk_factors"] = list(risk)
    source = (last - timedelta(days=7 * weeks - 1)).isoformat()
    return [rule.reason("see_doctor", "review", evidence, source=source, weeks=weeks)]
