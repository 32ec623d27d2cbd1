"""The FHIR export's Bundle as the OpenAPI document names it (issue 19).

Only the envelope is described here: the resources are FHIR R4's own, defined by the
specification (hl7.org/fhir/R4), and tests/api/test_fhir.py validates every one of them
against the R4B models of `fhir.resources`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FhirResourceType = Literal[
    "Patient", "CarePlan", "ServiceRequest", "Observation", "QuestionnaireResponse",
    "Procedure", "Questionnaire",
]  # fmt: skip


class FhirMeta(BaseModel):
    lastUpdated: str = Field(description="When it last changed (a FHIR instant)")  # noqa: N815


class FhirResource(BaseModel):
    """A FHIR R4 resource; its other elements as the specification defines them."""

    model_config = ConfigDict(extra="allow")

    resourceType: FhirResourceType = Field(description="Its FHIR type")  # noqa: N815
    id: str = Field(description="Stable across pulls")
    meta: FhirMeta | None = Field(
        default=None,
        description="`lastUpdated`: when it last changed (absent on a Questionnaire, this "
        "server's own definition)",
    )


class FhirEntry(BaseModel):
    fullUrl: str = Field(description="`urn:uuid:` and the resource's id")  # noqa: N815
    resource: FhirResource = Field(description="The resource")


class FhirLink(BaseModel):
    relation: Literal["self", "next"] = Field(
        description="`self`, or `next`: the following page, while more remains"
    )
    url: str = Field(description="Its path and query on this server")


class FhirBundle(BaseModel):
    """A page of a person's record, as a FHIR R4 `collection` Bundle."""

    resourceType: Literal["Bundle"] = Field(description="Always `Bundle`")  # noqa: N815
    meta: FhirMeta = Field(description="`lastUpdated`: when this page was assembled")
    type: Literal["collection"] = Field(description="Always `collection`")
    timestamp: str = Field(description="When this page was assembled (a FHIR instant)")
    link: list[FhirLink] = Field(description="`self`, and `next` while more remains")
    entry: list[FhirEntry] = Field(
        description="On every page the Patient and the routine first, then check-ins, "
        "outcomes and sessions (each kind in the order it last changed), then the "
        "Questionnaires the page's answers refer to",
    )
