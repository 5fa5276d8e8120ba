"""The Temporal Schedule of a recurring campaign (`series-<id>`, under Schedules in the
Temporal UI): at each cron time in the series' time zone it starts a SeriesRunWorkflow, which
starts the run's campaign if the series is approved and budget is left. It is created paused
and unpaused by the approval; a changed series pauses it until its new version is approved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from models.contracts import SeriesRunInput
from workflows.series_run import SeriesRunWorkflow

# After downtime the run missed within this long still starts (once); older ones are skipped.
CATCHUP = timedelta(hours=1)


def schedule_id(series_id: str) -> str:
    return f"series-{series_id}"


@dataclass(frozen=True)
class SeriesTiming:
    cron: str
    timezone: str
    until: datetime | None


def series_schedule(
    inp: SeriesRunInput, timing: SeriesTiming, task_queue: str, paused: bool, note: str
) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            SeriesRunWorkflow.run,
            inp,
            id=f"series-run-{inp.series_id}",  # Temporal appends the scheduled time
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(
            cron_expressions=[timing.cron], time_zone_name=timing.timezone, end_at=timing.until
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.ALLOW_ALL, catchup_window=CATCHUP),
        state=ScheduleState(paused=paused, note=note),
    )


async def put_series_schedule(
    client: Client,
    inp: SeriesRunInput,
    timing: SeriesTiming,
    task_queue: str,
    paused: bool,
    note: str,
    replace: bool = True,
) -> ScheduleHandle:
    """Create the series' schedule, or replace the one there (timing, action and state);
    with `replace` false, one that is there stays as it is (a pause an operator set, too)."""
    new = series_schedule(inp, timing, task_queue, paused, note)
    try:
        return await client.create_schedule(schedule_id(inp.series_id), new)
    except ScheduleAlreadyRunningError:
        handle = client.get_schedule_handle(schedule_id(inp.series_id))
        if not replace:
            return handle

        def change(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=new)

        await handle.update(change)
        return handle
