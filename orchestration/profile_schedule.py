"""The Temporal Schedule that refreshes customer profiles every few minutes.

Its interval should stay under the profiles' max age (profiles/freshness.py): then every
campaign finds profiles fresh enough and its research never waits for a whole-base refresh.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client, ScheduleHandle, ScheduleUpdate, ScheduleUpdateInput

from orchestration.interval_schedule import IntervalJob
from workflows.profile_refresh import ProfileRefreshWorkflow

REFRESH = IntervalJob(
    name="profile-refresh",
    workflow=ProfileRefreshWorkflow.run,
    note="RFM, lifecycle, best hour and data tags of every customer",
    doing=lambda every: f"profiles refresh every {every // timedelta(minutes=1)} min",
    without="campaigns will refresh stale profiles themselves",
)
schedule_id = REFRESH.schedule_id
refresh_schedule = REFRESH.schedule
ensure_refresh_schedule = REFRESH.ensure
# Never fails the worker: without the schedule, campaigns still refresh profiles they find stale.
schedule_on_start = REFRESH.on_start


async def set_refresh_schedule(client: Client, task_queue: str, every: timedelta) -> ScheduleHandle:
    """Create the schedule, or change the interval of the one there."""
    handle = client.get_schedule_handle(schedule_id(task_queue))
    if not await ensure_refresh_schedule(client, task_queue, every):
        new = refresh_schedule(task_queue, every)

        def change(current: ScheduleUpdateInput) -> ScheduleUpdate:
            new.state = current.description.schedule.state  # keep a pause an operator set
            return ScheduleUpdate(schedule=new)

        await handle.update(change)
    return handle
