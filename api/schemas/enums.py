"""Enums as named, shared schemas in the OpenAPI document (issue 17).

A `Literal` is written inline wherever it is used, so client generators emit one type per
use (the exercise category five times over). Each enum a client meets more than once is
one component here instead, with what each value means for a screen; the runtime type
stays the `Literal` (plain strings), only the document refers to the component.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import WithJsonSchema

ENUM_MARKER = "x-named-enum"
# name -> its schema, added to the document's components (api/openapi.py).
NAMED_ENUMS: dict[str, dict[str, Any]] = {}


def enum_schema(name: str, literal: Any, description: str) -> WithJsonSchema:
    """Metadata for `Annotated[literal, enum_schema(...)]`: the document shows the
    component `name`, registered here with the literal's values."""
    values = list(get_args(literal))
    NAMED_ENUMS[name] = {
        "type": "string",
        "enum": values,
        "title": name,
        "description": description,
    }
    # A marker, not a $ref: pydantic resolves every $ref against its own definitions.
    # api/openapi.py turns it into the reference once the document is built.
    return WithJsonSchema({ENUM_MARKER: name})


def values_of(named: Any) -> tuple[str, ...]:
    """The values of an `Annotated[Literal[...], ...]` enum."""
    return get_args(get_args(named)[0])


def refer_to_named_enums(node: Any) -> Any:
    """The document with each marker replaced by a reference to its component (inside
    allOf when the place adds keys of its own, such as a description or a default)."""
    if isinstance(node, list):
        return [refer_to_named_enums(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: refer_to_named_enums(value) for key, value in node.items()}
    name = out.pop(ENUM_MARKER, None)
    if name is None:
        return out
    out.pop("title", None)  # pydantic's, from the field name: the component has its own
    ref = {"$ref": f"#/components/schemas/{name}"}
    return {"allOf": [ref], **out} if out else ref


_InstrumentName = Literal["nrs-weekly", "odi", "psfs", "startback"]
InstrumentName = Annotated[
    _InstrumentName,
    enum_schema(
        "InstrumentName",
        _InstrumentName,
        "An outcome measure: `nrs-weekly` (average pain over the last 7 days, 0-10), `psfs` "
        "(Patient-Specific Functional Scale), `startback` (STarT Back Screening Tool), "
        "`odi` (Oswestry Disability Index). GET /v1/instruments describes each.",
    ),
]


_UploadSource = Literal["upload", "health_connect", "healthkit"]
UploadSource = Annotated[
    _UploadSource,
    enum_schema(
        "UploadSource",
        _UploadSource,
        "How a recording came: `upload` (a device's own upload), `health_connect` or "
        "`healthkit` (an import of the platform's record).",
    ),
]
