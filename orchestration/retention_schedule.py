"""The Temporal Schedule that purges data past its retention period (CN-29) every few hours.

A purge still running when the next is due makes that one skip; after downtime, one missed
purge runs, not a backlog. `retention_status` tells an operator the policy's next run.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.service import RPCError, RPCStatusCode

from workflows.retention_purge import RetentionPurgeWorkflow


def retention_schedule_id(task_queue: str) -> str:
    return f"{task_queue}-retention-purge"


def retention_schedule(task_queue: str, every: timedelta) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RetentionPurgeWorkflow.run, id=retention_schedule_id(task_queue), task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=every),
        state=ScheduleState(note="delete what is past its retention period (CN-29)"),
    )


async def ensure_retention_schedule(client: Client, task_queue: str, every: timedelta) -> bool:
    """Create the schedule unless it exists; True if created."""
    try:
        await client.create_schedule(
            retention_schedule_id(task_queue), retention_schedule(task_queue, every)
        )
    except ScheduleAlreadyRunningError:
        return False
    return True


async def retention_on_start(client: Client, task_queue: str, every: timedelta) -> str:
    """What a starting worker did about the schedule, as a log line; never fails the worker."""
    sid = retention_schedule_id(task_queue)
    try:
        created = await ensure_retention_schedule(client, task_queue, every)
    except RPCError as err:
        return f"could not create schedule {sid} ({err.message}); nothing is purged on time"
    if created:
        return f"created schedule {sid}: data past retention is purged every {every // timedelta(hours=1)} h"
    return f"schedule {sid} is there already"


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
