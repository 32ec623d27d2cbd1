"""What every bench person needs besides an account."""

from __future__ import annotations

import uuid
from datetime import datetime

from api.db import utcnow
from api.domain.screening import RISK_FACTORS
from api.models import Screening


def all_clear_screening(user_id: uuid.UUID, at: datetime | None = None) -> Screening:
    """No session is built before a screen (issue 15): an all-clear one."""
    return Screening(
        user_id=user_id,
        osteoporosis=False,
        pregnant=False,
        spinal_surgery_last_12_months=False,
        stenosis_or_spondylolisthesis=False,
        risk_factors=dict.fromkeys(RISK_FACTORS, False),
        created_at=at or utcnow(),
    )
