"""Workflows a worker keeps on a Temporal Schedule every so often (profile refresh, retention
purge, receipt pull), all in one shape: a run still going when the next is due makes that one
skip; after downtime one missed run happens, not a backlog; several workers starting at once
create the schedule once, and an interval an operator set stays."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

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


@dataclass(frozen=True)
class IntervalJob:
    """One scheduled workflow: what it is called, what it does, and what a worker logs."""

    name: str  # the schedule (and workflow) id is "<task queue>-<name>"
    workflow: Any  # the workflow's run method, taking no argument
    note: str  # shown beside the schedule in the Temporal UI
    doing: Callable[[timedelta], str]  # "profiles refresh every 10 min", for the log
    without: str  # what follows when the schedule cannot be created

    def schedule_id(self, task_queue: str) -> str:
        return f"{task_queue}-{self.name}"

    def schedule(self, task_queue: str, every: timedelta) -> Schedule:
        return Schedule(
            action=ScheduleActionStartWorkflow(
                self.workflow, id=self.schedule_id(task_queue), task_queue=task_queue
            ),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=every),
            state=ScheduleState(note=self.note),
        )

    async def ensure(self, client: Client, task_queue: str, every: timedelta) -> bool:
        """Create the schedule unless it exists; True if created."""
        try:
            await client.create_schedule(
                self.schedule_id(task_queue), self.schedule(task_queue, every)
            )
        except ScheduleAlreadyRunningError:
            return False
        return True

    async def on_start(self, client: Client, task_queue: str, every: timedelta) -> str:
        """What a starting worker did about the schedule, as a log line; never fails the worker."""
        sid = self.schedule_id(task_queue)
        try:
            created = await self.ensure(client, task_queue, every)
        except RPCError as err:
            return f"could not create schedule {sid} ({err.message}); {self.without}"
        if created:
            return f"created schedule {sid}: {self.doing(every)}"
        return f"schedule {sid} is there already"
