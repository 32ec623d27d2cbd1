"""The rule table: docs/clinical.md's default rules as data, one row each, most severe first.

Each row names its evaluator (a function named after the rule), the thresholds it reads
(tunable within bounds, see thresholds.py), the fixed numbers it uses, its message
templates and its sources. The engine (rules.py) walks the rows in this order;
`GET /v1/rules` and docs/rules.md show the same rows.
"""

from __future__ import annotations

from api.domain.outcome_rules import (
    FUNCTION_MEASURES,
    PAIR_SLACK,
    PSFS_FEW_SHARED,
    PSFS_FEW_SHARED_POINTS,
    sb1_startback_high_risk,
)
from api.domain.progression_rules import (
    FRESH_EVIDENCE,
    GATE_LOOKBACK,
    GATE_RISE_POINTS,
    GATE_TREND_DAYS,
    GATE_TREND_POINTS,
    PROGRESS_SESSIONS,
    VOLUME_WEEKS,
    m0_nothing_to_change,
    p0_progression_gate,
    p4_progress,
    v1_volume_cap,
)
from api.domain.red_flag_table import RF1, RF2, RF2B, RF3, RF4
from api.domain.rule import Rule
from api.domain.rule_sources import (
    ACSM,
    COSTA,
    HILL,
    NICE_NG59,
    NIELSEN,
    OSTELO,
    SILBERNAGEL,
    THOMEE,
)
from api.domain.session_rules import (
    AFTER_WINDOW,
    p1_session_pain,
    p2_next_morning_pain,
    p3_acceptable_pain,
)
from api.domain.trend_rules import (
    FIRST_READINGS,
    FLARE_BASELINE_DAYS,
    FLARE_JUMP_POINTS,
    FLARE_MIN_BASELINE_DAYS,
    FLARE_RECENT_DAYS,
    IMPROVEMENT_FRACTION,
    IMPROVEMENT_POINTS,
    REVIEW_MIN_DAYS_PER_WEEK,
    REVIEW_WEEKS_WITH_RISK_FACTORS,
    SETTLED_DAYS,
    SETTLED_POINTS,
    f1_flare,
    f2_no_improvement,
)

RULESET_VERSION = "v2"

F1 = Rule(
    rule_id="F1",
    title="Flare-up: rest pain clearly above the person's usual level",
    trigger="rest pain over the last 7 days up by >= 2 points, or by >= 30% and >= 1 "
    "point, over the person's baseline (mean of the 14 days before; with fewer than 2 "
    "baseline days, the first readings ever recorded); or rest pain up >= 3 points "
    "within 7 days",
    action="see_doctor when it has lasted 3+ days, otherwise regress; explains a flare and "
    "keeps gentle movement; stands until a later 3-day mean is back within 1 point of "
    "baseline",
    statuses=("regress", "see_doctor"),
    evaluate=f1_flare,
    sources=(OSTELO, COSTA),
    thresholds=("flare_points", "flare_fraction", "flare_days_for_doctor"),
    constants={
        "recent_days": FLARE_RECENT_DAYS,
        "baseline_days": FLARE_BASELINE_DAYS,
        "min_baseline_days": FLARE_MIN_BASELINE_DAYS,
        "first_readings": FIRST_READINGS,
        "jump_points": FLARE_JUMP_POINTS,
        "settled_days": SETTLED_DAYS,
        "settled_points": SETTLED_POINTS,
    },
    messages={
        "new": "Your pain at rest has risen clearly above your usual level (about "
        "{baseline:g} out of 10) since {began}. This may be a flare-up: they are common and "
        "usually settle. Keep moving gently; your exercises are eased back a step for now. "
        "Check in each day: if the pain has not settled within 3 days, contact your doctor "
        "or physiotherapist.",
        "lasting": "Your pain at rest has been clearly above your usual level (about "
        "{baseline:g} out of 10) since {began}, and no check-in since shows it settling. "
        "This may be a flare-up; they are common and usually settle, but please contact "
        "your doctor or physiotherapist now. Keep moving gently with easier exercises in "
        "the meantime, and keep checking in.",
        "jump": "Your pain at rest rose by {jump} points within a few days (by {began}). "
        "This may be the start of a flare-up: they are common and usually settle. Keep "
        "moving gently; your exercises are eased back a step for now. Check in each day: if "
        "the pain has not settled within 3 days, contact your doctor or physiotherapist.",
        "settling": "Your pain at rest rose clearly above your usual level (about "
        "{baseline:g} out of 10) from {began}; your latest check-in is back near it. Keep "
        "moving gently with easier exercises and keep checking in: when three days in a "
        "row show it settled, your exercises can build up again. If the pain was high for 3 "
        "days or more, tell your doctor or physiotherapist.",
        "jump_lasting": "Your pain at rest rose by {jump} points within a few days (by "
        "{began}), and no check-in since shows it settling back. Please contact your doctor "
        "or physiotherapist now. Keep moving gently with easier exercises in the meantime, "
        "and keep checking in.",
    },
    moves_dose="down",
    keyed_by_day=True,
    applied="Daily means of rest-pain check-ins (one value per local day), walked day by "
    "day. A flare begins on a day whose last-7-days mean is up by 2 points, or by 30% and "
    "1 point, over that day's baseline (the mean of the 14 days before those 7, with at "
    "least 2 days of data; else the mean of the person's first 3 rest-pain check-ins "
    "ever, those from before that day: a day is never its own baseline), or whose value "
    "is 3 points above a day in the 6 before it. 30% of a baseline "
    "of 0 is no amount: there it takes 2 points. The flare stands until the mean of 3 "
    "later days with data is within 1 point of the baseline it began from; days without "
    "a check-in never end it. It has lasted from its first day to today while its latest "
    "reading is still more than 1 point above baseline (silence does not shorten it), "
    "else to its last such day. One flare eases the routine once: its ledger key is its "
    "first day, and a first day one day either side (a time-zone change) counts as the "
    "same flare. A flare that began before the evidence in view (it has outlasted the "
    "window) goes on from the first day and baseline of the last stored advice that stood "
    "on it, so its baseline never catches up with the flare and it is eased once.",
)

F2 = Rule(
    rule_id="F2",
    title="No improvement over weeks",
    trigger="no improvement (2 points or 30%) over 4+ weeks (2 with a serious-cause risk "
    "factor from the screen) with at least one rest-pain check-in in each week, and the "
    "latest weekly mean >= 4; or an ODI or PSFS not improved by its minimal important "
    "change over the same window while it still shows limitation (ODI above 20, PSFS 6 "
    "or less)",
    action="see_doctor (review)",
    statuses=("see_doctor",),
    evaluate=f2_no_improvement,
    sources=(NICE_NG59, OSTELO),
    thresholds=("review_weeks", "review_min_mean"),
    constants={
        "improvement_points": IMPROVEMENT_POINTS,
        "improvement_fraction": IMPROVEMENT_FRACTION,
        "min_days_per_week": REVIEW_MIN_DAYS_PER_WEEK,
        "review_weeks_with_risk_factors": REVIEW_WEEKS_WITH_RISK_FACTORS,
        **{
            f"{m.instrument}_{name}": value
            for m in FUNCTION_MEASURES
            for name, value in (
                ("improvement_points", m.mic_points),
                ("improvement_percent", m.mic_percent),
                ("limited_from", m.limited_from),
            )
            if value is not None
        },
        "pair_slack_days": PAIR_SLACK.days,
        "psfs_few_shared_activities": PSFS_FEW_SHARED,
        "psfs_few_shared_improvement_points": PSFS_FEW_SHARED_POINTS,
    },
    messages={
        "review": "Your pain has not improved over the last {weeks} weeks. Please arrange a "
        "review with your doctor or physiotherapist to check that this plan is right for "
        "you. Until then your sessions keep to gentle stretches, and your exercises stay "
        "at their current level.",
        "function": "Your {measure} has not improved since {since} ({earlier}, "
        "then {latest}). Please arrange a review with your doctor or "
        "physiotherapist to check that this plan is right for you. Until then your "
        "sessions keep to gentle stretches, and your exercises stay at their current level.",
    },
    applied="The weeks end on the latest day with a rest-pain check-in, so a week of "
    "silence does not end a review that was due. 4 weeks each with at least one rest-pain "
    "check-in, the latest week's mean >= 4, and no fall of 2 points / 30% from the first "
    "week. Those improvement numbers are fixed, so tuning F1's thresholds can never make "
    "F2 quieter. A serious-cause risk factor in the screen (age over 50 with new pain, "
    "immunosuppression, long-term steroids, IV drug use, cancer history) shortens the "
    "window to 2 weeks (or the clinician's setting, if shorter), and the evidence names "
    "the risk factors. Outcome measures are judged over the same window: the latest ODI "
    "(or PSFS) against the latest answer of the same measure at least that many weeks "
    "before it (a day early still counts; however long before, and the message says "
    "since when), and a review is asked for when it has not improved by the measure's "
    "minimal important change (ODI 10 points or 30%, PSFS 2 points; changes to one "
    "decimal, as scores are kept) while the latest still shows limitation (ODI above 20, "
    "PSFS 6 or less). A PSFS compares the activities rated both times (their means; with "
    "fewer than 3 in common a change needs 3 points), and none in common compares "
    "nothing. It stands until a later answer shows the "
    "improvement.",
)

P1 = Rule(
    rule_id="P1",
    title="Too much pain during or right after exercise",
    trigger="session pain > 5 during an exercise, or within 2 h after the session",
    action="regress that exercise (or, for after-session pain, the session's exercises)",
    statuses=("regress",),
    evaluate=p1_session_pain,
    sources=(THOMEE, SILBERNAGEL),
    thresholds=("during_pain_max",),
    constants={"after_window_hours": AFTER_WINDOW.total_seconds() / 3600},
    messages={
        "during": "Pain during {names} reached {pain} out of 10, above the limit of "
        "{limit}. {outcome} If an exercise hurts that much again, stop it and rest.",
        "after": "Pain right after your session reached {pain} out of 10, above the limit of "
        "{limit}. {outcome} Rest today and check in tomorrow morning.",
    },
    moves_dose="down",
    applied="Per exercise, its latest *occasion* (a session: its log, the check-ins tagged "
    "with it, and untagged `after` check-ins within 2 h of its end; or a lone check-in) "
    "and the **highest** pain in it, during or after. A check-in that names no exercise "
    "counts for its session's exercises, or for the whole routine. An exercise left out "
    "of sessions ignores the pain that came before: it has been acted on.",
)

P2 = Rule(
    rule_id="P2",
    title="Pain raised the next morning",
    trigger="next-morning pain above the pre-session pain by >= 2, or above 5; with no "
    "`before` check-in, above the median rest pain of the 7 days before the session",
    action="regress the session's exercises",
    statuses=("regress",),
    evaluate=p2_next_morning_pain,
    sources=(SILBERNAGEL, THOMEE),
    thresholds=("next_morning_rise_regress", "next_morning_pain_max"),
    messages={
        "rise": "The morning after your last session your pain was {pain} out of 10, "
        "{rise} points above the {before} out of 10 you started from. {outcome} Keep "
        "moving gently and check in again tomorrow.",
        "high": "The morning after your last session your pain was {pain} out of 10, above "
        "{limit}. {outcome} Keep moving gently and check in again tomorrow.",
    },
    moves_dose="down",
    applied="The latest session with a next-morning reading: a `next_morning` check-in "
    "tagged with the session (after it ended), else the first untagged one within 36 h. "
    "Compared with a `before` check-in tagged with it (made before it began, 15 min "
    "grace), else the median rest pain of the 7 days before it; with neither, only the "
    "limit of 5 applies.",
)

P3 = Rule(
    rule_id="P3",
    title="Acceptable pain: repeat the dose",
    trigger="session pain 4-5, or next-morning pain above pre-session by 1",
    action="hold: repeat the same dose",
    statuses=("hold",),
    evaluate=p3_acceptable_pain,
    sources=(THOMEE, SILBERNAGEL),
    thresholds=("during_pain_safe_max", "during_pain_max", "next_morning_rise_regress"),
    messages={
        "during": "Pain during {names} was {pain} out of 10: acceptable, but not yet "
        "comfortable. Repeat the same dose next time rather than increasing it.",
        "after": "Pain right after your session was {pain} out of 10: acceptable, but not "
        "yet comfortable. Repeat the same doses of {names} next time rather than "
        "increasing them.",
        "morning": "Your pain was a little higher the morning after your last session. "
        "Repeat the same doses of {names} next time rather than increasing them.",
    },
    applied="Session pain: as P1, for the highest pain of the latest occasion in the "
    "acceptable zone (4-5), during or after. Next morning: as P2, a rise of 1 or more "
    "that P2 does not already regress.",
)

P4 = Rule(
    rule_id="P4",
    title="Progress: the dose was done comfortably",
    trigger="the last 2 sessions of an exercise: all prescribed reps done, pain during and "
    "after <= 3, RPE <= 6, no next-morning rise, P0 holds, no other rule above maintain",
    action="progress that exercise one step",
    statuses=("progress",),
    evaluate=p4_progress,
    sources=(ACSM, SILBERNAGEL),
    thresholds=("during_pain_safe_max", "progress_rpe_max"),
    constants={"sessions": PROGRESS_SESSIONS},
    messages={
        "step_up": "You did {exercise} comfortably in your last {sessions} sessions and your "
        "pain settled by the next morning: time for a small step up next session.",
        "back": "Your last {sessions} sessions went without too much pain, so {exercise} "
        "comes back into your sessions at its lowest dose.",
    },
    moves_dose="up",
    applied="The last 2 sessions of the exercise at the **current** dose: every prescribed "
    "set, rep and hold done, pain during <= 3, RPE <= 6, no pain above 3 during or right "
    "after the session (log `pain_after`, `during`/`after` check-ins), no next-morning "
    "rise, and a next-morning reading after the latest one at or below the pain the "
    "session started from. Only when no other rule is above `maintain`, and not at the "
    "top of a ladder with nothing harder. A left-out exercise comes back (one step up, to "
    "the bottom rung) after 2 sessions logged since it was left out with no pain above 3 "
    "during or after and a settled next morning.",
)

P0 = Rule(
    rule_id="P0",
    title="Gate for progression: fresh evidence that pain is settled",
    trigger="a rest-pain or `before` check-in in the last 72 h; latest rest pain not >= 2 "
    "above the lowest of the last 7 days; the last 3 days' rest-pain mean not above the 3 "
    "days before by >= 1",
    action="no progress unless all hold (report hold with the reason)",
    statuses=("hold",),
    evaluate=p0_progression_gate,
    sources=(SILBERNAGEL, OSTELO),
    constants={
        "fresh_hours": FRESH_EVIDENCE.total_seconds() / 3600,
        "lookback_days": GATE_LOOKBACK.days,
        "rise_points": GATE_RISE_POINTS,
        "trend_days": GATE_TREND_DAYS,
        "trend_points": GATE_TREND_POINTS,
    },
    messages={
        "stale": "{names} could step up, but there is no check-in of your pain at rest "
        "from the last 3 days. Check in now; until then the doses stay as they are.",
        "rising": "{names} could step up, but your latest pain at rest "
        "({latest_rest_pain} out of 10) is {rise} points above your lowest this week. The "
        "doses stay as they are until it settles.",
        "trend": "{names} could step up, but your pain at rest over the last 3 days is "
        "higher than the 3 days before. The doses stay as they are until it settles.",
    },
    caps="P4",
    applied="Evaluated after P4, on what P4 proposes: each of its step ups is withdrawn "
    "and held while any condition fails (also for a left-out exercise coming back). "
    '"Latest rest pain" and "lowest" are single check-ins (`daily`, `next_morning`) '
    "of the 7 days up to the latest one, not daily means, so one high reading is enough. "
    "The 3-day means are of local days with data, ending on the latest rest-pain day; "
    "without data on either side that condition cannot fail. Both are measured back from "
    "the latest data, not from now, so time alone never lifts them; freshness (72 h before "
    "now) can only fail with time. The same freshness is the advice's `stale`.",
)

V1 = Rule(
    rule_id="V1",
    title="Cap on weekly volume growth",
    trigger="a progression would raise planned weekly volume by more than 30% over the "
    "last 2 weeks",
    action="cap it: hold that exercise; the overall status stays as the other rules set it",
    statuses=("hold",),
    evaluate=v1_volume_cap,
    sources=(NIELSEN,),
    thresholds=("volume_growth_max",),
    constants={"weeks": VOLUME_WEEKS},
    messages={
        "capped": "To keep your weekly training load growing gradually, {exercise} stays at "
        "the same dose for now."
    },
    caps="P4",
    sets_status=False,
    applied="The routine's planned weekly volume (seconds of work per session x sessions "
    "per week, last 2 weeks) may grow by at most 30% over what was done in the last 2 "
    "weeks; progressions are accepted in exercise order until the cap, the rest `hold`.",
)

M0 = Rule(
    rule_id="M0",
    title="Nothing calls for a change: keep the doses",
    trigger="no rule above found anything",
    action="maintain: the same doses next session",
    statuses=("maintain",),
    evaluate=m0_nothing_to_change,
    sources=(THOMEE,),
    messages={
        "steady": "Nothing you have recorded lately calls for a change: keep doing your "
        "exercises at the same doses. Where a dose can go up, it does after two "
        "comfortable sessions at it with your pain settled.",
        "no_news": "There is no recent pain check-in to judge your doses by: record how "
        "your back is today. Until then, keep the same doses; none goes up without one.",
    },
    applied="Reported only when no other rule fired, so that every status has a reason; "
    "its evidence is what the judgement stood on (the latest rest pain, sessions logged "
    "in the last 7 days). It changes no dose.",
)

SB1 = Rule(
    rule_id="SB1",
    title="STarT Back high risk: clinician-supported care suggested",
    trigger="the latest STarT Back Screening Tool answered is high risk (distress subscale "
    ">= 4 of 5)",
    action="a reason suggesting care supported by a physiotherapist or doctor; linked "
    "clinicians are alerted when it is recorded; the status and doses stay as the other "
    "rules set them",
    statuses=("maintain",),
    evaluate=sb1_startback_high_risk,
    sources=(NICE_NG59, HILL),
    messages={
        "high_risk": "Your answers to the STarT Back questions suggest your back pain may "
        "need more support than exercises alone. Ask a physiotherapist or your doctor about "
        "treatment with them alongside these exercises; keep moving as your advice says.",
    },
    sets_status=False,
    applied="Reads the latest STarT Back ever (an outcome of `POST /v1/outcomes`); it stands "
    "until a later one is not high risk. It changes no dose and no status: exercise stays "
    "recommended at every risk level (NICE NG59).",
)

RULES: tuple[Rule, ...] = (RF1, RF2, RF2B, RF3, RF4, F1, F2, P1, P2, P3, P4, P0, V1, M0, SB1)
RULES_BY_ID = {rule.rule_id: rule for rule in RULES}
