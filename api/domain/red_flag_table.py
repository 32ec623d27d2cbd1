"""Rows RF1-RF4 of the rule table: signs that need a professional.

The engine walks them as part of `api/domain/rule_table.py`'s RULES.
"""

from __future__ import annotations

from api.domain.red_flag_rules import (
    LEG_SYMPTOMS_LOOKBACK,
    rf1_cauda_equina,
    rf2_infection_or_fracture,
    rf2b_cancer_concern,
    rf3_night_or_rest_pain,
    rf4_leg_symptoms,
)
from api.domain.rule import Rule
from api.domain.rule_sources import (
    BMJ,
    CAUDA_EQUINA,
    EMERGENCY_SIGNS,
    FINUCANE,
    GIRFT,
    RECORD_ASSESSMENT,
    SCIATICA,
    SERIOUS,
)

RF1 = Rule(
    rule_id="RF1",
    title="Cauda equina red flags",
    trigger="any cauda-equina item answered yes (saddle numbness, bladder or bowel change, "
    "both legs, progressive weakness, new sexual dysfunction)",
    action="urgent_care: stop exercising, get emergency care now; sessions refused. Cleared "
    "only by a linked clinician's resolution, or by an assessment (who: emergency "
    "department, doctor, physiotherapist; when: at or after the flag) recorded in a "
    "check-in with no flag",
    statuses=("urgent_care",),
    evaluate=rf1_cauda_equina,
    sources=(CAUDA_EQUINA, GIRFT, BMJ),
    messages={
        "flag": "Stop exercising and get emergency medical care now: call your local "
        "emergency number or go to an emergency department today. The symptoms you "
        "reported must be checked urgently by a doctor. Do not restart your exercises "
        "until a professional has seen you. " + RECORD_ASSESSMENT
    },
    applied="Stands until a check-in with `red_flags_resolved: {assessed_by, assessed_at}` "
    "and no red flag, assessed at or after the latest cauda-equina flag, or a linked "
    "clinician's `POST /v1/patients/{id}/red-flags/resolve` after it. `red_flags_resolved: "
    "true` alone is kept as the person's statement and clears nothing. The record must "
    "also come after the flag by the person's clock and by arrival, so a flag synced late "
    "from offline is not cleared by an earlier record. Each red-flag group (RF1, RF2, "
    "RF2b) is judged against its own latest flag.",
)

RF2 = Rule(
    rule_id="RF2",
    title="Possible infection or fracture",
    trigger="fever or feeling unwell, significant trauma",
    action="see_doctor today; sessions refused until an assessment is recorded as for RF1",
    statuses=("see_doctor",),
    evaluate=rf2_infection_or_fracture,
    sources=(SERIOUS, FINUCANE),
    messages={
        "flag": "Please see a doctor today about what you reported: with back pain, a fever, "
        "feeling unwell or a recent fall or accident needs checking first. Do not do your "
        "exercises until you have been seen. " + RECORD_ASSESSMENT
    },
    applied="Cleared like RF1 (an assessment at or after the latest such flag, or a "
    "clinician). `POST /v1/sessions` answers 409 `exercise-blocked` with the advice.",
)

RF2B = Rule(
    rule_id="RF2b",
    title="Possible serious cause: weight loss or cancer history",
    trigger="unexplained weight loss, or cancer history with new or changed pain",
    action="see_doctor within days; no progression; sessions limited to the warm-up and "
    "stretches until an assessment is recorded",
    statuses=("see_doctor",),
    evaluate=rf2b_cancer_concern,
    sources=(SERIOUS, FINUCANE),
    messages={
        "flag": "Please see a doctor within the next few days about what you reported. "
        "Until then your sessions are the warm-up and gentle stretches only, and your "
        "exercises will not be increased. " + RECORD_ASSESSMENT
    },
    applied='Cleared like RF1. The `cancer_history` answer is asked as "a history of '
    'cancer, and this back pain is new", so a yes is the trigger. Sessions built while it '
    "stands hold the warm-up and the stretches (category `stretch`) only.",
)

RF3 = Rule(
    rule_id="RF3",
    title="Night pain or severe pain at rest",
    trigger="constant night pain, or rest pain 8-10",
    action="see_doctor; no progression; stands until a later rest-pain check-in below the "
    "threshold and no night pain",
    statuses=("see_doctor",),
    evaluate=rf3_night_or_rest_pain,
    sources=(SERIOUS,),
    thresholds=("rest_pain_doctor",),
    messages={
        "flag": "Constant pain at night that does not ease when you change position should "
        "be checked. Please book a doctor's appointment in the next few days; your "
        "exercises will not be increased until then. Check in again after a night "
        "without that pain.",
        "rest_pain": "Your pain at rest is very high ({pain} out of 10). Please book a "
        "doctor's appointment in the next few days; your exercises will not be increased "
        "until your pain at rest is below {threshold} again. Keep checking in.",
    },
    applied="Rest pain: the latest rest-pain check-in ever (`daily` or `next_morning`) at "
    "8-10 stands, however long ago, until a later one is below 8. Night pain: the latest "
    "night-pain flag stands until a later rest-pain check-in below the threshold answers "
    "`night_pain: false` (not answering it says nothing), or an assessment or a clinician "
    "follows it.",
)

RF4 = Rule(
    rule_id="RF4",
    title="Pain below the knee or leg numbness, new or spreading",
    trigger="pain below the knee or leg numbness reported, new compared with the 14 days "
    "before, or spreading",
    action="hold all progression; tell your doctor or physiotherapist, and what turns it "
    "into an emergency",
    statuses=("hold",),
    evaluate=rf4_leg_symptoms,
    sources=(SCIATICA, CAUDA_EQUINA),
    constants={"lookback_days": LEG_SYMPTOMS_LOOKBACK.days},
    messages={
        "new": "You reported pain below the knee or numbness in your leg, which is new. "
        "Your exercises stay at their current level: tell your doctor or physiotherapist "
        "about it at your next contact. " + EMERGENCY_SIGNS,
        "spreading": "The pain or numbness in your leg has spread to new places. Your "
        "exercises stay at their current level: tell your doctor or physiotherapist about "
        "it soon. " + EMERGENCY_SIGNS,
    },
    applied="Leg symptoms are `radiating_below_knee: true`, `leg_numbness: true` and any "
    "`locations` slug naming a part of the leg (leg, thigh, knee, calf, shin, ankle, foot, "
    "toe). A check-in with a leg symptom not reported in the 14 days before it starts the "
    'hold ("spreading" when it adds to symptoms already there); the hold stands until a '
    "later check-in answers `radiating_below_knee: false` with no leg symptom. After such "
    'a "no", symptoms that come back are new again, whatever came before it. The hold '
    "lasts while its onset is within the evidence window (42 days back from the latest "
    "data): it is a hold, not a warning that must outlive silence.",
)
