"""The activity a series' scheduled run starts with: which campaign to start, if any."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity

from activities.context import current
from db.engine import session_scope
from governance.series_runs import plan_run
from models.contracts import SeriesRunPlan, SeriesRunStart


@activity.defn
def prepare_series_run(start: SeriesRunStart) -> SeriesRunPlan:
    """Decide the run of this scheduled time (once: a retry gets the same answer)."""
    with session_scope(current().engine) as session:
        return plan_run(session, start.series_id, start.scheduled_at, datetime.now(UTC))
