"""The rule table: CLINICAL.md's default rules as data, one row each, most severe first.

Each row names its evaluator (a function named after the rule), the thresholds it reads
(tunable within bounds, see thresholds.py), the fixed numbers it uses, its message
templates and its sources. The engine (rules.py) walks the rows in this order;
`GET /v1/rules` and docs/rules.md show the same rows.
"""

from __future__ import annotations

from api.domain.red_flag_rules import (
    REST_PAIN_LOOKBACK,
    rf1_cauda_equina,
    rf2_serious_cause,
    rf3_night_or_rest_pain,
)
from api.domain.rule import Rule
from api.domain.session_rules import (
    PROGRESS_SESSIONS,
    VOLUME_WEEKS,
    p1_session_pain,
    p2_next_morning_pain,
    p3_acceptable_pain,
    p4_progress,
    v1_volume_cap,
)
from api.domain.trend_rules import (
    FLARE_BASELINE_DAYS,
    FLARE_MIN_BASELINE_DAYS,
    FLARE_MIN_RECENT_DAYS,
    FLARE_RECENT_DAYS,
    IMPROVEMENT_FRACTION,
    IMPROVEMENT_POINTS,
    REVIEW_MIN_DAYS_PER_WEEK,
    f1_flare,
    f2_no_improvement,
)

RULESET_VERSION = "v1"

_CAUDA_EQUINA = "NICE CKS: sciatica / low back pain, red flags for cauda equina syndrome"
_GIRFT = "GIRFT: national suspected cauda equina syndrome pathway (emergency referral)"
_BMJ = "BMJ Best Practice: cauda equina syndrome (emergency referral)"
_SERIOUS = "NICE CKS: low back pain without radiculopathy, red flags for serious causes"
_FINUCANE = (
    "Finucane et al. 2020, JOSPT 50:350: red flags are weak tests alone; used as triggers to refer"
)
_THOMEE = "Thomee 1997, Phys Ther 77:1690: pain-monitoring model (0-3 safe, 4-5 acceptable)"
_SILBERNAGEL = (
    "Silbernagel et al. 2007, Am J Sports Med 35:897: pain must settle by the next morning"
)
_OSTELO = "Ostelo et al. 2008, Spine 33:90: minimal important change, 2 points or 30%"
_COSTA = "Costa et al. 2019, J Pain: consensus definition of a low back pain flare-up"
_NICE_NG59 = "NICE NG59 (2016, updated 2020): low back pain and sciatica in over 16s"
_ACSM = "ACSM position stand 2009: progression models in resistance training"
_NIELSEN = "Nielsen et al. 2014, JOSPT 44:739: weekly volume jumps over 30% and injury"

RF1 = Rule(
    rule_id="RF1",
    title="Cauda equina red flags",
    trigger="any cauda-equina item answered yes (saddle numbness, bladder or bowel change, "
    "both legs, progressive weakness, new sexual dysfunction)",
    action="urgent_care: stop exercising, get emergency care now; sessions refused",
    statuses=("urgent_care",),
    evaluate=rf1_cauda_equina,
    sources=(_CAUDA_EQUINA, _GIRFT, _BMJ),
    messages={
        "flag": "Stop exercising and get emergency medical care now: call your local "
        "emergency number or go to an emergency department today. The symptoms you "
        "reported must be checked urgently by a doctor. Do not restart your exercises "
        "until a professional has seen you."
    },
    applied="Stands **until** a later check-in with `red_flags_resolved: true` and no red "
    "flag, or a linked clinician's `POST /v1/patients/{id}/red-flags/resolve`. A "
    "resolution only counts if it came after the flag both by the person's clock and by "
    "arrival, so an emergency recorded offline and synced late is not cleared by an "
    "earlier resolution.",
)

RF2 = Rule(
    rule_id="RF2",
    title="Other serious causes",
    trigger="fever or feeling unwell, unexplained weight loss, cancer history, significant trauma",
    action="see_doctor soon; no progression",
    statuses=("see_doctor",),
    evaluate=rf2_serious_cause,
    sources=(_SERIOUS, _FINUCANE),
    messages={
        "flag": "Please see a doctor soon, within the next few days, about what you "
        "reported. Until then, keep your exercises at their current level or easier, and "
        "stop any that make things worse. When you have been seen, record it in a check-in."
    },
    applied="Stands until resolved, like RF1: the table gives it no expiry.",
)

RF3 = Rule(
    rule_id="RF3",
    title="Night pain or severe pain at rest",
    trigger="constant night pain not eased by changing position, or rest pain 8-10",
    action="see_doctor; no progression",
    statuses=("see_doctor",),
    evaluate=rf3_night_or_rest_pain,
    sources=(_SERIOUS,),
    thresholds=("rest_pain_doctor",),
    constants={"rest_pain_lookback_days": REST_PAIN_LOOKBACK.days},
    messages={
        "flag": "Constant pain at night that does not ease when you change position should "
        "be checked. Please book a doctor's appointment soon, and do not increase your "
        "exercises until then.",
        "rest_pain": "Your pain at rest is very high ({pain} out of 10). Please see a doctor "
        "soon, and do not increase your exercises until you have.",
    },
    applied="Night pain stands until resolved, like RF1. Pain at rest: the latest rest "
    "check-in (`daily`, `before`, `next_morning`) of the last 7 days at 8-10.",
)

F1 = Rule(
    rule_id="F1",
    title="Flare-up: rest pain clearly above the person's usual level",
    trigger="rest pain over the last 7 days up by 2 points or 30% over the 14 days before",
    action="regress the routine; see_doctor when it has lasted 3+ days",
    statuses=("regress", "see_doctor"),
    evaluate=f1_flare,
    sources=(_OSTELO, _COSTA),
    thresholds=("flare_points", "flare_fraction", "flare_days_for_doctor"),
    constants={
        "recent_days": FLARE_RECENT_DAYS,
        "baseline_days": FLARE_BASELINE_DAYS,
        "min_recent_days": FLARE_MIN_RECENT_DAYS,
        "min_baseline_days": FLARE_MIN_BASELINE_DAYS,
    },
    messages={
        "new": "Your pain this week is clearly higher than your usual level. This may be a "
        "flare-up: they are common and usually settle. Keep moving gently; your exercises "
        "are eased back a step for now.",
        "lasting": "Your pain has been clearly higher than your usual level for {days} days. "
        "This may be a flare-up; they are common and usually settle, but please check in "
        "with your doctor or physical therapist. Keep moving gently with easier exercises "
        "in the meantime.",
    },
    moves_dose="down",
    keyed_by_day=True,
    applied="Daily means of rest check-ins (one value per local day). The last 7 days "
    "against the 14 before (at least 3 and 4 days with data): a rise of 2 points or 30%. "
    '"Lasted 3+ days" is counted in calendar days over the latest run of raised days '
    "(days without a check-in do not break a run, an ordinary day does). One flare eases "
    "the routine once: its ledger key is the flare's first day, and a first day one day "
    "either side (a time-zone change, a shifting baseline) counts as the same flare.",
)

F2 = Rule(
    rule_id="F2",
    title="No improvement over weeks",
    trigger="no improvement (2 points or 30%) over 4 weeks of regular check-ins, latest "
    "weekly mean >= 4",
    action="see_doctor (review)",
    statuses=("see_doctor",),
    evaluate=f2_no_improvement,
    sources=(_NICE_NG59, _OSTELO),
    thresholds=("review_weeks", "review_min_mean"),
    constants={
        "improvement_points": IMPROVEMENT_POINTS,
        "improvement_fraction": IMPROVEMENT_FRACTION,
        "min_days_per_week": REVIEW_MIN_DAYS_PER_WEEK,
    },
    messages={
        "review": "Your pain has not improved over the last {weeks} weeks. Please arrange a "
        "review with your doctor or physical therapist to check that this plan is right "
        "for you."
    },
    applied="4 weeks with at least 3 check-in days each, latest week's mean >= 4, and no "
    "fall of 2 points / 30% from the first week. Those improvement numbers are fixed, so "
    "tuning F1's thresholds can never make F2 quieter.",
)

P1 = Rule(
    rule_id="P1",
    title="Too much pain during exercise",
    trigger="pain during an exercise above 5",
    action="regress that exercise",
    statuses=("regress",),
    evaluate=p1_session_pain,
    sources=(_THOMEE, _SILBERNAGEL),
    thresholds=("during_pain_max",),
    messages={
        "during": "Pain during {exercise} went above {limit:g} out of 10, which is too much. "
        "It is made easier for next time."
    },
    moves_dose="down",
    applied="Per exercise, the latest *occasion* (a session: its log and the check-ins "
    "tagged with it; or a lone check-in) and the **highest** pain in it. A `during` "
    "check-in that names no exercise counts for its session's exercises, or for the whole "
    "routine.",
)

P2 = Rule(
    rule_id="P2",
    title="Pain raised the next morning",
    trigger="next-morning pain above the pre-session pain by >= 2, or above 5",
    action="regress the session's exercises",
    statuses=("regress",),
    evaluate=p2_next_morning_pain,
    sources=(_SILBERNAGEL, _THOMEE),
    thresholds=("next_morning_rise_regress", "next_morning_pain_max"),
    messages={
        "morning": "Your pain the morning after your last session was clearly higher than "
        "before it. That session's exercises are eased back a step."
    },
    moves_dose="down",
    applied="The latest session with a next-morning reading: a `next_morning` check-in "
    "tagged with the session (after it ended), else the first untagged one within 36 h. "
    "Compared with a `before` check-in tagged with it (made before it began, 15 min "
    "grace), else the latest rest check-in in the 24 h before.",
)

P3 = Rule(
    rule_id="P3",
    title="Acceptable pain: repeat the dose",
    trigger="session pain 4-5, or next-morning pain above pre-session by 1",
    action="hold: repeat the same dose",
    statuses=("hold",),
    evaluate=p3_acceptable_pain,
    sources=(_THOMEE, _SILBERNAGEL),
    thresholds=("during_pain_safe_max", "during_pain_max", "next_morning_rise_regress"),
    messages={
        "during": "Pain during {exercise} was in the acceptable zone ({pain} out of 10). "
        "Repeat the same dose next time rather than increasing it.",
        "morning": "Your pain was a little higher the morning after your last session. "
        "Repeat the same doses next time rather than increasing them.",
    },
    applied="During: as P1, for the highest pain of the latest occasion in the acceptable "
    "zone. Next morning: as P2, a rise of 1 that P2 does not already regress.",
)

P4 = Rule(
    rule_id="P4",
    title="Progress: the dose was done comfortably",
    trigger="the last 2 sessions of an exercise: all prescribed reps done, pain during and "
    "after <= 3, RPE <= 6, no next-morning rise, no other rule above maintain",
    action="progress that exercise one step",
    statuses=("progress",),
    evaluate=p4_progress,
    sources=(_ACSM, _SILBERNAGEL),
    thresholds=("during_pain_safe_max", "progress_rpe_max"),
    constants={"sessions": PROGRESS_SESSIONS},
    messages={
        "step_up": "You did {exercise} comfortably in your last {sessions} sessions and your "
        "pain settled by the next morning: time for a small step up."
    },
    moves_dose="up",
    applied="The last 2 sessions of the exercise at the **current** dose: every prescribed "
    "set, rep and hold done, pain during <= 3, RPE <= 6, no pain above 3 during or right "
    "after the session (log `pain_after`, `after`/`during` check-ins), no next-morning "
    "rise, and a next-morning reading after the latest one. Also: rest pain not rising "
    "(the last 7 days' mean not above the weeks before). Only when no other rule is above "
    "`maintain`, and not at the top of a ladder with nothing harder.",
)

V1 = Rule(
    rule_id="V1",
    title="Cap on weekly volume growth",
    trigger="a progression would raise planned weekly volume by more than 30% over the "
    "last 2 weeks",
    action="cap it: hold that exercise; the overall status stays as the other rules set it",
    statuses=("hold",),
    evaluate=v1_volume_cap,
    sources=(_NIELSEN,),
    thresholds=("volume_growth_max",),
    constants={"weeks": VOLUME_WEEKS},
    messages={
        "capped": "To keep your weekly training load growing gradually, {exercise} stays at "
        "the same dose for now."
    },
    caps="P4",
    applied="The routine's planned weekly volume (seconds of work per session x sessions "
    "per week, last 2 weeks) may grow by at most 30% over what was done in the last 2 "
    "weeks; progressions are accepted in exercise order until the cap, the rest `hold`.",
)

RULES: tuple[Rule, ...] = (RF1, RF2, RF3, F1, F2, P1, P2, P3, P4, V1)
RULES_BY_ID = {rule.rule_id: rule for rule in RULES}
