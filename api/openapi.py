"""OpenAPI document tweaks: short operation ids, and every error response documented as
problem+json."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, cast

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

from api.admission import queues
from api.errors import PROBLEM_TYPES
from api.problems import PROBLEM_MEDIA_TYPE, problem_example
from api.schemas.catalog_public import ExerciseState
from api.schemas.clinicians import ACTION_DETAILS_SCHEMAS
from api.schemas.common import Problem
from api.schemas.enums import NAMED_ENUMS, refer_to_named_enums
from api.schemas.evidence import EVIDENCE_SCHEMAS
from api.schemas.health_imports import HealthConnectImport
from api.schemas.healthkit import HealthKitImport
from api.schemas.outcomes import answers_schema
from api.schemas.wearable import UploadIn
from api.services.idempotency_keys import MAX_KEY_LENGTH

# Bodies a route reads itself (to stream and inflate them), and the shapes a field served
# as stored is documented as (a reason's evidence by rule, a revision's exercise, a
# clinician action's details).
EXTRA_SCHEMAS: tuple[type[BaseModel], ...] = (
    UploadIn,
    HealthConnectImport,
    HealthKitImport,
    *EVIDENCE_SCHEMAS,
    ExerciseState,
    *ACTION_DETAILS_SCHEMAS,
)

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
# What each group of operations is for, in the order a new app developer meets them.
TAGS = [
    {"name": "auth", "description": "Register, sign in (OAuth2 password flow), refresh, sign out."},
    {
        "name": "me",
        "description": "The signed-in person: profile, screening, devices, export, erasure.",
    },
    {
        "name": "catalog",
        "description": "The exercises, muscles and equipment (public reads with ETags; "
        "admins edit with If-Match).",
    },
    {
        "name": "pain and advice",
        "description": "Pain check-ins and the advice the rule service gives with each; the "
        "rules themselves.",
    },
    {
        "name": "outcome measures",
        "description": "Validated questionnaires (pain, function, disability, STarT Back "
        "risk): what each asks and how it scores, and a person's answers, scored.",
    },
    {
        "name": "training",
        "description": "Today's routine, sessions built and logged, progress for charts.",
    },
    {
        "name": "wearable",
        "description": "Uploads from a device token and imports from Health Connect or HealthKit "
        "(a device or the person's token), each under an Idempotency-Key; and the person's list.",
    },
    {
        "name": "clinicians",
        "description": "Invitations and links, and what a linked clinician sees and sets.",
    },
    {
        "name": "fhir",
        "description": "A person's whole record as FHIR R4 resources in a collection "
        "Bundle, for clinicians' and health systems' use.",
    },
    {"name": "operations", "description": "Health, readiness and what a problem type means."},
]
# Relative: the document is served by the API it describes, wherever that is deployed.
SERVERS = [{"url": "/", "description": "The server this document was fetched from"}]
# A real answer for every success response ("METHOD /path status" -> body), recorded by
# tests/api/test_examples.py, which also keeps each one true to its schema.
EXAMPLES_FILE = Path(__file__).with_name("openapi_examples.json")


@cache
def _examples() -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return loaded


def operation_id(route: APIRoute) -> str:
    """The route function's name in camelCase (`put_session_log` -> `putSessionLog`).

    What client generators name their methods after; FastAPI's default adds the path and
    method (`put_session_log_v1_sessions__session_id__log_put`). Route functions are
    named for this: verb first, unique across the app (tests/api/test_operation_ids.py).
    """
    first, *rest = route.name.split("_")
    return first + "".join(word[:1].upper() + word[1:] for word in rest)


def _problem_schemas() -> dict[str, Any]:
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {"Problem": schema, **defs}


def _document_common_errors(operation: dict[str, Any], queued: bool) -> None:
    """Errors any operation can give, so clients (and schema fuzzers) expect them."""
    responses = operation.setdefault("responses", {})
    if queued:
        responses.setdefault("503", {"description": PROBLEM_TYPES["busy"]})
    takes_input = bool(operation.get("parameters")) or "requestBody" in operation
    wanted = {"500": "internal-error"}
    if takes_input:
        wanted["422"] = "validation-error"
    if "requestBody" in operation:
        wanted["400"] = "bad-request"  # a body that is not even text
        wanted["413"] = "payload-too-large"
    if operation.get("security"):
        wanted["401"] = "unauthorized"
    for status, slug in wanted.items():
        responses.setdefault(status, {"description": PROBLEM_TYPES[slug]})


# Headers the HTTP layer adds to error answers (api/problems.py, api/admission.py), so a
# generated client can read them.
_ERROR_HEADERS: dict[str, dict[str, dict[str, Any]]] = {
    "401": {
        "WWW-Authenticate": {
            "description": "The scheme to authenticate with (`Bearer`)",
            "schema": {"type": "string"},
        }
    },
    "429": {
        "Retry-After": {
            "description": "Seconds until a try may succeed",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
    "503": {
        "Retry-After": {
            "description": "Seconds to wait before retrying (the same ids and keys make it safe)",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
}


# Sent with every answer (api/middleware.py): quote it when reporting a problem; the
# problem document's `instance` carries the same id.
REQUEST_ID = {
    "X-Request-ID": {
        "description": "This request's id (yours, if you sent a sane one; otherwise made "
        "here), as the server's log has it: quote it when reporting a problem",
        "schema": {"type": "string", "maxLength": 64},
    }
}


# Path ids, named alike on every route (the problem's slug is its own).
PATH_PARAMETERS = {
    "slug": "The exercise's slug (stable: apps deep-link to it)",
    "device_id": "The device's id, as `POST /v1/me/devices` answered it",
    "checkin_id": "The check-in's id (the client's, when it sent one)",
    "session_id": "The session's id (the client's, when it sent one)",
    "link_id": "The link's id, as `GET /v1/me/clinicians` lists it",
    "patient_id": "The linked patient's user id, as `GET /v1/patients` lists it",
    "alert_id": "The alert's id, as `GET /v1/alerts` lists it",
    "outcome_id": "The outcome's id (the client's, when it sent one)",
}
PROBLEM_SLUG = "A problem type's last path segment, as in a problem's `type`"
# The OAuth2 password form is FastAPI's own model; its fields described here.
SIGN_IN_FORM = {
    "grant_type": "`password` (OAuth2's password grant), or leave it out",
    "username": "The account's email address (OAuth2 calls the field `username`)",
    "password": "The account's password",
    "scope": "Not used: leave it empty",
    "client_id": "Not used: leave it out",
    "client_secret": "Not used: leave it out",
}


# Request examples for the bodies whose models carry none of their own (shared models,
# FastAPI's sign-in form, a patch whose example depends on what is changed).
REQUEST_EXAMPLES: dict[tuple[str, str], Any] = {
    ("post", "/v1/auth/register"): {
        "email": "sam@example.com",
        "password": "correct horse battery staple",
        "display_name": "Sam",
    },
    ("post", "/v1/auth/token"): {
        "grant_type": "password",
        "username": "sam@example.com",
        "password": "correct horse battery staple",
    },
    ("post", "/v1/auth/refresh"): {"refresh_token": "bsr_EXAMPLEexampleEXAMPLEexampleEXAMPLE0"},
    ("post", "/v1/auth/logout"): {"refresh_token": "bsr_EXAMPLEexampleEXAMPLEexampleEXAMPLE0"},
    ("delete", "/v1/me"): {"password": "correct horse battery staple"},
    ("patch", "/v1/me"): {
        "equipment": ["mat", "resistance-band"],
        "session_minutes": 20,
        "timezone": "Europe/London",
    },
}


def _example_request(operation: dict[str, Any], method: str, path: str) -> None:
    example = REQUEST_EXAMPLES.get((method, path))
    for content in operation.get("requestBody", {}).get("content", {}).values():
        if example is not None:
            content.setdefault("example", example)


def _describe_parameters(operation: dict[str, Any], path: str) -> None:
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path" and not parameter.get("description"):
            known = PROBLEM_SLUG if path.startswith("/problems/") else None
            parameter["description"] = known or PATH_PARAMETERS[parameter["name"]]


def _document_error_headers(operation: dict[str, Any]) -> None:
    for response in operation.get("responses", {}).values():
        response.setdefault("headers", {}).update(REQUEST_ID)
    for status, headers in _ERROR_HEADERS.items():
        response = operation.get("responses", {}).get(status)
        if response is not None:
            response.setdefault("headers", {}).update(headers)


# Headers a route checks itself, so that leaving one out is a 400 with its own message
# rather than FastAPI's 422; the document still has to say they are required.
ROUTE_CHECKED_HEADERS = {
    "Idempotency-Key": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH}
}


# Headers a route takes as optional (to answer their absence itself, with 428 rather than
# a validation error) but a request must send: PUT and PATCH of an exercise are refused
# without If-Match, which the document said was optional (issue 18, finding 10).
REQUIRED_BY_OPERATION = {
    ("put", "/v1/exercises/{slug}"): {"if-match"},
    ("patch", "/v1/exercises/{slug}"): {"if-match"},
}


def _document_required_headers(operation: dict[str, Any], method: str, path: str) -> None:
    required = REQUIRED_BY_OPERATION.get((method, path), set())
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "header":
            continue
        schema = ROUTE_CHECKED_HEADERS.get(parameter["name"])
        if schema is not None:
            parameter["required"] = True
            parameter["schema"] = dict(schema)
        elif parameter["name"].lower() in required:
            parameter["required"] = True
            parameter["example"] = '"5d41402abc4b2a76b9719d911017c592"'  # from a GET


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
            servers=SERVERS,
        )
        components = doc.setdefault("components", {}).setdefault("schemas", {})
        components.update(_problem_schemas())
        # Parts some problems carry, typed by the shapes the routes already document.
        problem = components["Problem"]["properties"]
        problem["advice"] = {
            "allOf": [{"$ref": "#/components/schemas/AdvicePublic"}],
            "description": "With a refused session build (409 `exercise-blocked`, "
            "`screening-required`, `clinician-clearance-required`): the advice behind it.",
        }
        problem["gates"] = {
            "type": "array",
            "items": {"$ref": "#/components/schemas/Gate"},
            "description": "With 409 `clinician-clearance-required`: what needs a clinician.",
        }
        for model in EXTRA_SCHEMAS:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            # Shapes the routes' own models use are documented by those routes already.
            for name, sub in schema.pop("$defs", {}).items():
                components.setdefault(name, sub)
            components[model.__name__] = schema
        for name, schema in NAMED_ENUMS.items():
            components.setdefault(name, schema)
        answers = components["OutcomeCreate"]["properties"]["answers"]
        answers.update(answers_schema(app.state.instruments))
        doc = cast(dict[str, Any], refer_to_named_enums(doc))
        components = doc["components"]["schemas"]
        # FastAPI documents its own 422 shape; ours is the Problem document.
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        for name, text in SIGN_IN_FORM.items():
            form = components.get("Body_signIn", {}).get("properties", {})
            if name in form:
                form[name].setdefault("description", text)
        for path, path_item in doc.get("paths", {}).items():
            for method, operation in path_item.items():
                _describe_parameters(operation, path)
                _example_request(operation, method, path)
                _document_common_errors(operation, queues(method.upper(), path))
                _document_required_headers(operation, method, path)
                _document_error_headers(operation)
                for status, response in operation.get("responses", {}).items():
                    example = _examples().get(f"{method.upper()} {path} {status}")
                    json_content = response.get("content", {}).get("application/json")
                    if example is not None and json_content is not None:
                        json_content["example"] = example
                    if status[0] in "45":
                        response["content"] = {
                            PROBLEM_MEDIA_TYPE: {
                                "schema": _PROBLEM_REF,
                                "example": problem_example(int(status)),
                            }
                        }
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
