"""The Temporal Schedule that purges data past its retention period (CN-29) every few hours.

`next_purge` tells an operator (`retention`) when it runs next.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from orchestration.interval_schedule import IntervalJob
from workflows.retention_purge import RetentionPurgeWorkflow

PURGE = IntervalJob(
    name="retention-purge",
    workflow=RetentionPurgeWorkflow.run,
    note="delete what is past its retention period (CN-29)",
    doing=lambda every: f"data past retention is purged every {every // timedelta(hours=1)} h",
    without="nothing is purged on time",
)
retention_schedule_id = PURGE.schedule_id
ensure_retention_schedule = PURGE.ensure
retention_on_start = PURGE.on_start


async def next_purge(client: Client, task_queue: str) -> datetime | None:
    """When the schedule next purges (None: there is no schedule, or it is paused)."""
    handle = client.get_schedule_handle(retention_schedule_id(task_queue))
    try:
        described = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    if described.schedule.state.paused:
        return None
    upcoming = described.info.next_action_times
    return upcoming[0] if upcoming else None
