"""The sources the rule table cites (docs/clinical.md), and sentences several of
its messages share."""

from __future__ import annotations

CAUDA_EQUINA = "NICE CKS: sciatica / low back pain, red flags for cauda equina syndrome"
GIRFT = "GIRFT: national suspected cauda equina syndrome pathway (emergency referral)"
BMJ = "BMJ Best Practice: cauda equina syndrome (emergency referral)"
SERIOUS = "NICE CKS: low back pain without radiculopathy, red flags for serious causes"
FINUCANE = (
    "Finucane et al. 2020, JOSPT 50:350: red flags are weak tests alone; used as triggers to refer"
)
THOMEE = "Thomee 1997, Phys Ther 77:1690: pain-monitoring model (0-3 safe, 4-5 acceptable)"
SILBERNAGEL = (
    "Silbernagel et al. 2007, Am J Sports Med 35:897: pain must settle by the next morning"
)
OSTELO = "Ostelo et al. 2008, Spine 33:90: minimal important change, 2 points or 30%"
COSTA = "Costa et al. 2019, J Pain: consensus definition of a low back pain flare-up"
HILL = (
    "Hill et al. 2008, Arthritis Rheum 59:632: the STarT Back Screening Tool, risk "
    "of a poor outcome (Keele University)"
)
NICE_NG59 = "NICE NG59 (2016, updated 2020): low back pain and sciatica in over 16s"
ACSM = "ACSM position stand 2009: progression models in resistance training"
NIELSEN = "Nielsen et al. 2014, JOSPT 44:739: weekly volume jumps over 30% and injury"
SCIATICA = "NICE CKS: sciatica (lumbar radiculopathy): refer if symptoms progress or spread"

# Said wherever an assessment clears a rule, so the person knows how to record one.
RECORD_ASSESSMENT = (
    "When you have been assessed, record it in a check-in: who assessed you (emergency "
    "department, doctor or physiotherapist) and when."
)
# RF4 says what would turn leg symptoms into an emergency (RF1's items).
EMERGENCY_SIGNS = (
    "Get emergency care at once if you notice numbness around your genitals or back "
    "passage, trouble passing urine or controlling your bladder or bowel, symptoms in "
    "both legs, or leg weakness that is getting worse."
)
