"""Profile refresh: RFM, lifecycle, best hour and data tags for the whole base, on a schedule."""

from datetime import datetime

from sqlalchemy import select
from temporalio import activity

from activities.context import current
from activities.keepalive import heartbeating
from db.engine import session_scope
from models.contracts import RefreshResult
from models.tables import ProfileRefresh
from profiles.refresh import refresh_profiles


@activity.defn
def refresh_all_profiles(as_of: datetime) -> RefreshResult:
    """Recompute every profile as of `as_of`; a retry recomputes the same values."""
    with heartbeating(), session_scope(current().engine) as session:
        refresh_profiles(session, as_of)
        done = session.execute(  # this refresh's record: refreshes take turns on a lock
            select(ProfileRefresh).order_by(ProfileRefresh.id.desc()).limit(1)
        ).scalar_one()
        return RefreshResult(as_of=done.as_of, profiles=done.profiles, changed=done.changed)
