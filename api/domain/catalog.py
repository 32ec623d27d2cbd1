"""What the rule service knows about a catalog exercise. No framework, database or clock."""

from __future__ import annotations

from dataclasses import dataclass

from api.domain.ladder import CatalogDose


@dataclass(frozen=True)
class CatalogInfo:
    """One exercise as rule evaluation sees it; archived exercises are included."""

    slug: str
    name: str
    category: str
    archived: bool
    dose: CatalogDose
