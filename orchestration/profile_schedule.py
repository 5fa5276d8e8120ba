"""The Temporal Schedule that refreshes customer profiles every few minutes.

Its interval should stay under the profiles' max age (profiles/freshness.py): then every
campaign finds profiles fresh enough and its research never waits for a whole-base refresh.
A refresh still running when the next one is due makes that one skip; after downtime, one
missed refresh runs, not a backlog of them.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError

from workflows.profile_refresh import ProfileRefreshWorkflow


def schedule_id(task_queue: str) -> str:
    return f"{task_queue}-profile-refresh"


def refresh_schedule(task_queue: str, every: timedelta) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            ProfileRefreshWorkflow.run, id=schedule_id(task_queue), task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=every),
        state=ScheduleState(note="RFM, lifecycle, best hour and data tags of every customer"),
    )


async def ensure_refresh_schedule(client: Client, task_queue: str, every: timedelta) -> bool:
    """Create the schedule unless it exists (an interval an operator set stays); True if
    created. Several workers starting at once create it once."""
    try:
        await client.create_schedule(schedule_id(task_queue), refresh_schedule(task_queue, every))
    except ScheduleAlreadyRunningError:
        return False
    return True


async def schedule_on_start(client: Client, task_queue: str, every: timedelta) -> str:
    """What a starting worker did about the schedule, as a log line. Never fails the worker:
    without the schedule, campaigns still refresh profiles they find stale."""
    try:
        created = await ensure_refresh_schedule(client, task_queue, every)
    except RPCError as err:
        return (
            f"could not create schedule {schedule_id(task_queue)} ({err.message}); "
            "campaigns will refresh stale profiles themselves"
        )
    if created:
        return (
            f"created schedule {schedule_id(task_queue)}: profiles refresh every "
            f"{every // timedelta(minutes=1)} min"
        )
    return f"schedule {schedule_id(task_queue)} is there already"


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
