"""Whether stored profiles can serve a campaign as of a time, and refreshing them when not.

Profiles are fresh for D when every customer has one and the latest refresh was as of a time T
with D − max_age ≤ T ≤ D. Campaigns started within `max_age` of a refresh share it (a ten-million
base is not recomputed per campaign); data imported in between is picked up at the next refresh.
max_age: OMNIREACH_PROFILE_MAX_AGE_SECONDS, default 900.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.tables import Customer, CustomerProfile, ProfileRefresh
from profiles.refresh import refresh_profiles
from profiles.worktables import lock_refresh
from settings import settings


def max_age() -> timedelta:
    return timedelta(seconds=settings().profile_max_age_seconds)


def last_refresh(session: Session) -> datetime | None:
    """The as-of time of the latest refresh, which every stored profile is as of."""
    return session.execute(
        select(ProfileRefresh.as_of).order_by(ProfileRefresh.id.desc()).limit(1)
    ).scalar()


def profiles_fresh(session: Session, as_of: datetime, age: timedelta) -> bool:
    customers = session.execute(select(func.count()).select_from(Customer)).scalar_one()
    profiles = session.execute(select(func.count()).select_from(CustomerProfile)).scalar_one()
    if profiles != customers:
        return False
    if customers == 0:
        return True
    refreshed = last_refresh(session)
    return refreshed is not None and as_of - age <= refreshed <= as_of


def ensure_fresh(session: Session, as_of: datetime, age: timedelta | None = None) -> bool:
    """Refresh profiles unless fresh for `as_of`; returns True when it refreshed. Campaigns
    researched at once wait for one refresh and share it."""
    lock_refresh(session)
    if profiles_fresh(session, as_of, max_age() if age is None else age):
        return False
    refresh_profiles(session, as_of)
    return True
