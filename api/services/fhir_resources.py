"""A person's record as FHIR R4 resources (issue 19): one pure function per resource.

No database access here: api/services/fhir.py reads the rows and pages them. Every
resource id is stable (a row's own id, or a UUID derived from it), so a receiving system
that pulls again updates what it has instead of duplicating it. Resources reference each
other by `urn:uuid:` full URLs (`full_url`), as a collection Bundle allows, and every page
carries what its resources refer to (api/services/fhir.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from api.domain.instruments import Instrument
from api.models import CheckInRow, OutcomeRow, SessionLogRow, User

# Our own canonical URLs: the questionnaires and code systems LOINC has no code for.
CANONICAL = "https://backstrong.app/fhir"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
# Ids derived from a row's id and what they stand for (uuid5 is stable across pulls).
NAMESPACE = uuid.UUID("6f0c5f1e-2f1b-5c43-9a43-7b1d2b8d9c1a")

PAIN_NRS = {
    "system": LOINC,
    "code": "72514-3",
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}
EXERCISE_THERAPY = {"system": SNOMED, "code": "229065009", "display": "Exercise therapy"}
SURVEY = [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}]
PHASES = {
    "daily": "At rest, during the day",
    "before": "Before a session",
    "during": "During a session",
    "after": "Right after a session",
    "next_morning": "The morning after a session",
}


def derived_id(kind: str, of: uuid.UUID | str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{of}"))


def full_url(resource_type: str, resource_id: str | uuid.UUID) -> str:
    """A resource's `urn:uuid:` full URL in a Bundle, from its type and id: ids chosen by
    clients (check-ins, outcomes) may equal another table's, never another type's URL."""
    return f"urn:uuid:{derived_id(resource_type, resource_id)}"


def ref(resource_type: str, resource_id: str | uuid.UUID) -> dict[str, str]:
    return {"reference": full_url(resource_type, resource_id)}


def instant(moment: datetime) -> str:
    """A FHIR instant: UTC, to the microsecond (as every moment this API answers)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def local(moment: datetime, offset_minutes: int | None) -> str:
    """A FHIR dateTime at the offset the client recorded it with (UTC when it sent none)."""
    zone = timezone(timedelta(minutes=offset_minutes or 0))
    return moment.astimezone(zone).isoformat(timespec="microseconds").replace("+00:00", "Z")


def meta(updated: datetime) -> dict[str, str]:
    return {"lastUpdated": instant(updated)}


def patient(user: User) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(user.id),
        "meta": meta(user.updated_at),
        "active": True,
        "telecom": [{"system": "email", "value": user.email}],
    }
    if user.display_name:
        resource["name"] = [{"text": user.display_name}]
    if user.birth_year is not None:
        resource["birthDate"] = str(user.birth_year)  # a FHIR date may be a year alone
    return resource


def _exercise(slug: str, names: Mapping[str, str]) -> dict[str, Any]:
    name = names.get(slug, slug)
    return {"coding": [{"system": f"{CANONICAL}/CodeSystem/exercise", "code": slug,
                        "display": name}], "text": name}  # fmt: skip


def pain_observation(
    row: CheckInRow, user_id: uuid.UUID, names: Mapping[str, str]
) -> dict[str, Any]:
    """A pain check-in: LOINC 72514-3, the 0-10 rating, when it was felt as a component."""
    phase = {
        "code": {"coding": [{"system": f"{CANONICAL}/CodeSystem/checkin", "code": "phase",
                             "display": "When the pain was felt"}]},
        "valueCodeableConcept": {
            "coding": [{"system": f"{CANONICAL}/CodeSystem/checkin-phase", "code": row.phase,
                        "display": PHASES.get(row.phase, row.phase)}],
            "text": PHASES.get(row.phase, row.phase),
        },
    }  # fmt: skip
    components = [phase]
    if row.exercise_slug:
        exercise = {"coding": [{"system": f"{CANONICAL}/CodeSystem/checkin", "code": "exercise",
                                "display": "The exercise the pain was felt in"}]}  # fmt: skip
        components.append(
            {"code": exercise, "valueCodeableConcept": _exercise(row.exercise_slug, names)}
        )
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(row.id),
        "meta": meta(row.received_at),
        "status": "final",
        "category": SURVEY,
        "code": {"coding": [PAIN_NRS], "text": "Back pain, 0-10"},
        "subject": ref("Patient", user_id),
        "effectiveDateTime": local(row.recorded_at, row.recorded_offset_minutes),
        "issued": instant(row.received_at),
        "valueInteger": row.pain,
        "component": components,
    }
    if row.note:
        resource["note"] = [{"text": row.note}]
    return resource


def questionnaire_url(instrument: str) -> str:
    """Our canonical URL for a questionnaire: the items and answers of our Questionnaire
    resource (`questionnaire`), which names LOINC's panel code where LOINC has one."""
    return f"{CANONICAL}/Questionnaire/{instrument}"


def questionnaire(instrument: Instrument) -> dict[str, Any]:
    """An instrument as a Questionnaire, for the QuestionnaireResponses that answer it: its
    items (the ODI's by section name unless the licensed text is configured), its LOINC
    panel (STarT Back 91349-1, ODI 97908-8) and its licence."""
    items: list[dict[str, Any]] = []
    for item in instrument.items:
        text = item.text or item.title or item.id
        if instrument.scoring.method == "activities_mean":
            items.append({
                "linkId": item.id, "text": text, "type": "group", "repeats": True,
                "item": [
                    {"linkId": "activity", "text": "Activity", "type": "string"},
                    {"linkId": "score", "text": "Rating, 0-10", "type": "integer"},
                ],
            })  # fmt: skip
        else:
            items.append({"linkId": item.id, "text": text, "type": "integer"})
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": instrument.instrument,
        "url": questionnaire_url(instrument.instrument),
        "title": instrument.title,
        "status": "active",
        "copyright": f"{instrument.licence.note} {instrument.licence.attribution}",
        "item": items,
    }
    if instrument.loinc:
        resource["code"] = [
            {"system": LOINC, "code": instrument.loinc, "display": instrument.title}
        ]
    return resource


def _answer_items(instrument: Instrument, answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for item in instrument.items:
        given = answers.get(item.id)
        if given is None:
            continue  # a section left out (ODI) is absent, as in the answers
        text = item.text or item.title or item.id
        if isinstance(given, list):  # PSFS: a repeating group, one per activity named
            items.extend(
                {"linkId": item.id, "text": text, "item": [
                    {"linkId": "activity", "answer": [{"valueString": str(a["activity"])}]},
                    {"linkId": "score", "answer": [{"valueInteger": int(a["score"])}]},
                ]}
                for a in given
                if isinstance(a, Mapping)
            )  # fmt: skip
        elif isinstance(given, int) and not isinstance(given, bool):
            items.append({"linkId": item.id, "text": text, "answer": [{"valueInteger": given}]})
    return items


def questionnaire_response(
    row: OutcomeRow, user_id: uuid.UUID, instrument: Instrument
) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "id": str(row.id),
        "meta": meta(row.received_at),
        "questionnaire": questionnaire_url(instrument.instrument),
        "status": "completed",
        "subject": ref("Patient", user_id),
        "authored": local(row.recorded_at, row.recorded_offset_minutes),
        "item": _answer_items(instrument, row.answers),
    }


def _score(value: float) -> dict[str, Any]:
    return {"value": value, "unit": "score", "system": UCUM, "code": "{score}"}


def score_observation(
    row: OutcomeRow, user_id: uuid.UUID, instrument: Instrument
) -> dict[str, Any]:
    """An outcome's score (ODI: LOINC 97909-6), its band as the interpretation, derived
    from its QuestionnaireResponse."""
    if instrument.score_loinc:
        code = {"system": LOINC, "code": instrument.score_loinc,
                "display": f"{instrument.title} score"}  # fmt: skip
    else:
        code = {"system": f"{CANONICAL}/CodeSystem/outcome-score", "code": row.instrument,
                "display": f"{instrument.title} score"}  # fmt: skip
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": derived_id("score", row.id),
        "meta": meta(row.received_at),
        "status": "final",
        "category": SURVEY,
        "code": {"coding": [code], "text": f"{instrument.title} score"},
        "subject": ref("Patient", user_id),
        "effectiveDateTime": local(row.recorded_at, row.recorded_offset_minutes),
        "issued": instant(row.received_at),
        "valueQuantity": _score(row.score),
        "derivedFrom": [ref("QuestionnaireResponse", row.id)],
    }
    labels = {b.band: b.label for b in instrument.bands}
    if row.band:
        label = labels.get(row.band, row.band)
        resource["interpretation"] = [{
            "coding": [{"system": f"{CANONICAL}/CodeSystem/{row.instrument}-band",
                        "code": row.band, "display": label}],
            "text": label,
        }]  # fmt: skip
    if row.subscores:
        resource["component"] = [
            {"code": {"coding": [{"system": f"{CANONICAL}/CodeSystem/outcome-subscore",
                                  "code": f"{row.instrument}.{name}"}], "text": name},
             "valueQuantity": _score(value)}
            for name, value in sorted(row.subscores.items())
        ]  # fmt: skip
    return resource


def care_plan_id(user_id: uuid.UUID) -> str:
    return derived_id("careplan", user_id)


def service_request_id(user_id: uuid.UUID, slug: str) -> str:
    return derived_id(f"routine:{user_id}", slug)


@dataclass(frozen=True)
class Planned:
    """One exercise of the routine as the export shows it: its dose, and its status
    (`active`: in force; `on-hold`: in the routine but not prescribed today, e.g. left out,
    not cleared or not started yet; `revoked`: taken out of the routine)."""

    slug: str
    name: str
    sets: int
    reps: int | None
    hold_seconds: int | None
    per_side: bool
    status: str
    created_at: datetime
    updated_at: datetime


def care_plan(user_id: uuid.UUID, planned: Sequence[Planned]) -> dict[str, Any]:
    """The routine: one activity per exercise in force (each a ServiceRequest)."""
    active = [p for p in planned if p.status == "active"]
    return {
        "resourceType": "CarePlan",
        "id": care_plan_id(user_id),
        "meta": meta(max(p.updated_at for p in planned)),
        "status": "active" if active else "on-hold",
        "intent": "plan",
        "category": [{"coding": [EXERCISE_THERAPY]}],
        "title": "Back-strengthening routine",
        "subject": ref("Patient", user_id),
        "period": {"start": instant(min(p.created_at for p in planned))},
        "activity": [
            {"reference": ref("ServiceRequest", service_request_id(user_id, p.slug))}
            for p in active
        ],
    }


def dose_text(p: Planned) -> str:
    """`3 sets of 10 reps, each side`, or `2 sets of 5 holds of 30 s`."""
    if p.hold_seconds and p.reps:
        each = f"{p.reps} holds of {p.hold_seconds} s"
    elif p.hold_seconds:
        each = f"a {p.hold_seconds} s hold"
    else:
        each = f"{p.reps or 0} reps"
    side = ", each side" if p.per_side else ""
    return f"{p.sets} set{'s' if p.sets != 1 else ''} of {each}{side}"


def service_request(p: Planned, user_id: uuid.UUID) -> dict[str, Any]:
    """One exercise of the routine: exercise therapy (SNOMED 229065009), the exercise as
    its detail, the sets as `quantity` and the whole dose in words as a note."""
    exercise = {
        "coding": [{"system": f"{CANONICAL}/CodeSystem/exercise", "code": p.slug,
                    "display": p.name}],
        "text": p.name,
    }  # fmt: skip
    return {
        "resourceType": "ServiceRequest",
        "id": service_request_id(user_id, p.slug),
        "meta": meta(p.updated_at),
        "basedOn": [ref("CarePlan", care_plan_id(user_id))],
        "status": p.status,
        "intent": "plan",
        "code": {"coding": [EXERCISE_THERAPY], "text": p.name},
        "orderDetail": [exercise],
        "quantityQuantity": {"value": p.sets, "unit": "sets"},
        "subject": ref("Patient", user_id),
        "authoredOn": instant(p.created_at),
        "note": [{"text": dose_text(p)}],
    }


def _entry_text(entry: Mapping[str, Any], names: Mapping[str, str]) -> str:
    name = names.get(str(entry.get("exercise_slug")), str(entry.get("exercise_slug")))
    if entry.get("skipped"):
        return f"{name}: skipped"
    reps = entry.get("reps") or []
    parts = [f"{entry.get('sets_completed', 0)} sets"]
    if reps:
        parts[0] += f" ({', '.join(str(r) for r in reps)} reps)"
    if entry.get("hold_seconds") is not None:
        parts.append(f"holds of {entry['hold_seconds']} s")
    if entry.get("rpe") is not None:
        parts.append(f"effort {entry['rpe']}/10")
    if entry.get("pain_during") is not None:
        parts.append(f"pain {entry['pain_during']}/10")
    return f"{name}: {', '.join(parts)}"


def procedure(
    log: SessionLogRow, user_id: uuid.UUID, names: Mapping[str, str], plan: bool
) -> dict[str, Any]:
    """A logged session: exercise therapy performed, one note per exercise as logged."""
    notes = [{"text": _entry_text(e, names)} for e in log.entries]
    if log.pain_after is not None:
        notes.append({"text": f"Pain right after the session: {log.pain_after}/10"})
    if log.import_id is not None:
        # A clinician reading it must know no one reported how it felt.
        notes.append(
            {"text": "Sets and reps as a wearable recorded them (Health Connect); the person "
             "did not log this session, so no pain was reported"}
        )  # fmt: skip
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": str(log.session_id),
        "meta": meta(log.updated_at),
        "status": "completed",
        "code": {"coding": [EXERCISE_THERAPY], "text": "Back-strengthening session"},
        "subject": ref("Patient", user_id),
        "performedPeriod": {"start": instant(log.started_at), "end": instant(log.ended_at)},
    }
    if plan:
        resource["basedOn"] = [ref("CarePlan", care_plan_id(user_id))]
    if notes:
        resource["note"] = notes
    return resource
