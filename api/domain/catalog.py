"""What the rule service knows about a catalog exercise. No framework, database or clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from api.domain.ladder import CatalogDose


@dataclass(frozen=True)
class CatalogInfo:
    """One exercise as rule evaluation sees it; archived exercises are included."""

    slug: str
    name: str
    category: str
    archived: bool
    dose: CatalogDose
    # Screening (domain/screening.py): cautions, and the dose kept where one is limited.
    cautions: frozenset[str] = frozenset()
    caution_limits: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    # The steps as the catalog has them (the source article's text), for domain/steps.py.
    steps: tuple[str, ...] = ()
