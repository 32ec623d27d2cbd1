"""Rule thresholds: defaults with their sources, and the bounds a clinician may tune within.

Every bound points the safe way: an override may make a rule fire sooner, never
later. Red-flag rules (RF1-RF3 flags) have no thresholds at all, so no override
can switch them off.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Bound:
    low: float
    high: float
    source: str


# name -> (default, bound). Sources: docs/clinical.md.
SPEC: dict[str, tuple[float, Bound]] = {
    # Pain-monitoring model (Thomee 1997; Silbernagel 2007): during activity 0-3 safe,
    # 4-5 acceptable, above 5 too much.
    "during_pain_max": (5, Bound(2, 5, "Thomee 1997: pain during activity above 5 is too much")),
    "during_pain_safe_max": (3, Bound(0, 3, "Thomee 1997: 0-3 is the safe zone")),
    # Next-morning pain must settle (Silbernagel 2007).
    "next_morning_rise_regress": (
        2,
        Bound(1, 2, "Silbernagel 2007: pain raised the next morning -> reduce the load"),
    ),
    "next_morning_pain_max": (5, Bound(3, 5, "Thomee 1997: above 5 is too much")),
    # Minimal important change (Ostelo 2008): 2 points or 30%.
    "flare_points": (2, Bound(1, 2, "Ostelo 2008: minimal important change, 2 points")),
    "flare_fraction": (0.30, Bound(0.10, 0.30, "Ostelo 2008: minimal important change, 30%")),
    # Costa 2019: a flare lasts hours to weeks; 3+ days of it warrants a review.
    "flare_days_for_doctor": (3, Bound(1, 3, "Costa 2019 flare definition")),
    # NICE CKS: severe pain at rest; 8-10 on the 0-10 scale.
    "rest_pain_doctor": (8, Bound(6, 8, "NICE CKS: severe, unremitting pain at rest")),
    # NICE NG59 / CKS: review when not improving after about 4 weeks.
    "review_weeks": (4, Bound(2, 4, "NICE: no improvement after about 4 weeks")),
    "review_min_mean": (4, Bound(2, 4, "moderate pain (4+) that is not improving")),
    # ACSM 2009: progress when the dose is done comfortably.
    "progress_rpe_max": (6, Bound(3, 6, "ACSM 2009: progress when the dose feels comfortable")),
    # Nielsen 2014: weekly volume jumps over ~30% in two weeks are linked to injury.
    "volume_growth_max": (0.30, Bound(0.05, 0.30, "Nielsen 2014: cap weekly volume growth")),
}


class ThresholdError(ValueError):
    def __init__(self, field: str, message: str, kind: str = "out_of_range") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        # What is wrong, as api/errors.py FIELD_CODES names it.
        self.kind = kind


@dataclass(frozen=True)
class Thresholds:
    during_pain_max: float = SPEC["during_pain_max"][0]
    during_pain_safe_max: float = SPEC["during_pain_safe_max"][0]
    next_morning_rise_regress: float = SPEC["next_morning_rise_regress"][0]
    next_morning_pain_max: float = SPEC["next_morning_pain_max"][0]
    flare_points: float = SPEC["flare_points"][0]
    flare_fraction: float = SPEC["flare_fraction"][0]
    flare_days_for_doctor: float = SPEC["flare_days_for_doctor"][0]
    rest_pain_doctor: float = SPEC["rest_pain_doctor"][0]
    review_weeks: float = SPEC["review_weeks"][0]
    review_min_mean: float = SPEC["review_min_mean"][0]
    progress_rpe_max: float = SPEC["progress_rpe_max"][0]
    volume_growth_max: float = SPEC["volume_growth_max"][0]

    def with_overrides(self, overrides: dict[str, Any]) -> Thresholds:
        """Apply a clinician's overrides; anything unknown or out of bounds is refused."""
        known = {f.name for f in fields(self)}
        for name, value in overrides.items():
            if name not in known:
                raise ThresholdError(name, "not a tunable threshold (red-flag rules have none)")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ThresholdError(name, "must be a number")
            bound = SPEC[name][1]
            if not bound.low <= value <= bound.high:
                raise ThresholdError(
                    name, f"must be between {bound.low:g} and {bound.high:g} ({bound.source})"
                )
        if overrides.get("during_pain_safe_max", self.during_pain_safe_max) >= overrides.get(
            "during_pain_max", self.during_pain_max
        ):
            raise ThresholdError(
                "during_pain_safe_max", "must stay below during_pain_max", "conflict"
            )
        return replace(self, **{k: float(v) for k, v in overrides.items()})


DEFAULT_THRESHOLDS = Thresholds()
