"""Whether stored profiles can serve a campaign as of a time, and refreshing them when not.

Profiles are fresh for D when every customer has one, all were computed at one instant T, and
D − max_age ≤ T ≤ D. Campaigns started within `max_age` of a refresh share it (a ten-million
base is not recomputed per campaign); data imported in between is picked up at the next refresh.
max_age: OMNIREACH_PROFILE_MAX_AGE_SECONDS, default 900.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.tables import Customer, CustomerProfile
from profiles.refresh import refresh_profiles

ENV_MAX_AGE = "OMNIREACH_PROFILE_MAX_AGE_SECONDS"


def max_age() -> timedelta:
    raw = os.environ.get(ENV_MAX_AGE, "900")
    try:
        seconds = int(raw)
    except ValueError:
        raise ValueError(f"{ENV_MAX_AGE} must be a whole number of seconds, got {raw!r}") from None
    if seconds < 0:
        raise ValueError(f"{ENV_MAX_AGE} must not be negative, got {seconds}")
    return timedelta(seconds=seconds)


def profiles_fresh(session: Session, as_of: datetime, age: timedelta) -> bool:
    customers = session.execute(select(func.count()).select_from(Customer)).scalar_one()
    n, oldest, newest = session.execute(
        select(func.count(), func.min(CustomerProfile.as_of), func.max(CustomerProfile.as_of))
    ).one()
    if n != customers:
        return False
    if n == 0:
        return True
    return oldest == newest and as_of - age <= oldest <= as_of


def ensure_fresh(session: Session, as_of: datetime, age: timedelta | None = None) -> bool:
    """Refresh profiles unless fresh for `as_of`; returns True when it refreshed."""
    if profiles_fresh(session, as_of, max_age() if age is None else age):
        return False
    refresh_profiles(session, as_of)
    return True
