"""The Temporal Schedule that pulls SMS receipts whose callback never came, every so many minutes.

A pull still running when the next is due makes that one skip; after downtime, one missed pull
runs, not a backlog.
"""

from __future__ import annotations

from datetime import timedelta

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
from temporalio.service import RPCError

from workflows.receipt_pull import ReceiptPullWorkflow


def receipt_pull_schedule_id(task_queue: str) -> str:
    return f"{task_queue}-receipt-pull"


def receipt_pull_schedule(task_queue: str, every: timedelta) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            ReceiptPullWorkflow.run, id=receipt_pull_schedule_id(task_queue), task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=every),
        state=ScheduleState(note="pull SMS receipts whose callback never came"),
    )


async def ensure_receipt_pull_schedule(client: Client, task_queue: str, every: timedelta) -> bool:
    """Create the schedule unless it exists; True if created."""
    try:
        await client.create_schedule(
            receipt_pull_schedule_id(task_queue), receipt_pull_schedule(task_queue, every)
        )
    except ScheduleAlreadyRunningError:
        return False
    return True


async def receipt_pull_on_start(client: Client, task_queue: str, every: timedelta) -> str:
    """What a starting worker did about the schedule, as a log line; never fails the worker."""
    sid = receipt_pull_schedule_id(task_queue)
    try:
        created = await ensure_receipt_pull_schedule(client, task_queue, every)
    except RPCError as err:
        return f"could not create schedule {sid} ({err.message}); receipts are not pulled"
    if created:
        minutes = every // timedelta(minutes=1)
        return f"created schedule {sid}: SMS receipts are pulled every {minutes} min"
    return f"schedule {sid} is there already"
