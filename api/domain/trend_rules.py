"""Evaluators of F1 and F2: rest pain over days and weeks, by the person's local day.

Their rows, messages and sources are in `api/domain/rule_table.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from statistics import fmean

from api.domain.evidence import Context, meaningful_rise, rounded
from api.domain.rule import Rule
from api.domain.types import Reason

# F1 (Ostelo 2008 applied to worsening): the last 7 days against the 14 before.
FLARE_RECENT_DAYS = 7
FLARE_BASELINE_DAYS = 14
# Too few days make a mean meaningless; below these F1 stays silent.
FLARE_MIN_RECENT_DAYS = 3
FLARE_MIN_BASELINE_DAYS = 4
# F2 judges "improvement" by the minimal important change itself (Ostelo 2008), fixed:
# tuning the flare thresholds must never make F2 fire less.
IMPROVEMENT_POINTS = 2.0
IMPROVEMENT_FRACTION = 0.30
# F2: "regular check-ins" means at least this many days with a check-in each week.
REVIEW_MIN_DAYS_PER_WEEK = 3


def _flare_run(ctx: Context, baseline_mean: float) -> tuple[int, date]:
    """(days the latest flare has lasted, the day it began), in calendar days: from the
    first raised day of the latest run of raised days (days without a check-in do not
    break a run; an ordinary day does) to its last raised day."""
    daily, t = ctx.daily, ctx.thresholds
    run: list[date] = []
    for day in sorted(daily, reverse=True):
        if meaningful_rise(daily[day] - baseline_mean, baseline_mean, t):
            run.append(day)
        elif run:
            break
    lasted = (run[0] - run[-1]).days + 1 if run and run[0] == max(daily) else 0
    return lasted, (run[-1] if run else ctx.today)


def f1_flare(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    daily, t, today = ctx.daily, ctx.thresholds, ctx.today
    recent_days = [today - timedelta(days=i) for i in range(FLARE_RECENT_DAYS)]
    baseline_days = [
        today - timedelta(days=FLARE_RECENT_DAYS + i) for i in range(FLARE_BASELINE_DAYS)
    ]
    recent = [daily[d] for d in recent_days if d in daily]
    baseline = [daily[d] for d in baseline_days if d in daily]
    if len(recent) < FLARE_MIN_RECENT_DAYS or len(baseline) < FLARE_MIN_BASELINE_DAYS:
        return []
    recent_mean, baseline_mean = fmean(recent), fmean(baseline)
    rise = recent_mean - baseline_mean
    if not meaningful_rise(rise, baseline_mean, t):
        return []
    lasted, began = _flare_run(ctx, baseline_mean)
    evidence = {
        "recent_mean": rounded(recent_mean),
        "baseline_mean": rounded(baseline_mean),
        "rise": rounded(rise),
        "days_raised": lasted,
        "flare_began": began.isoformat(),
        "recent_days": len(recent),
        "baseline_days": len(baseline),
    }
    exercises = tuple(sorted(d.exercise_slug for d in ctx.doses))
    # One flare, one easing of the exercises: keyed by the day it began.
    if lasted >= t.flare_days_for_doctor:
        return [
            rule.reason(
                "see_doctor", "lasting", evidence, exercises, source=began.isoformat(), days=lasted
            )
        ]
    return [rule.reason("regress", "new", evidence, exercises, source=began.isoformat())]


def f2_no_improvement(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    daily, t, today = ctx.daily, ctx.thresholds, ctx.today
    weeks = int(t.review_weeks)
    means: list[float] = []
    for week in range(weeks):
        days = [today - timedelta(days=7 * week + i) for i in range(7)]
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
    evidence = {"weekly_means": [rounded(m) for m in reversed(means)], "weeks": weeks}
    source = (today - timedelta(days=7 * weeks - 1)).isoformat()
    return [rule.reason("see_doctor", "review", evidence, source=source, weeks=weeks)]
