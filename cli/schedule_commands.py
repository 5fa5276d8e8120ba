"""`refresh-schedule`: how often customer profiles are refreshed, on a Temporal Schedule."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import typer
from temporalio.client import ScheduleIntervalSpec

from cli.common import JsonOpt, app, client, console, load_settings, print_json, run
from orchestration.profile_schedule import set_refresh_schedule
from profiles.freshness import max_age
from settings import PROFILE_REFRESH_MINUTES


@app.command("refresh-schedule")
def refresh_schedule_cmd(
    every: Annotated[int, typer.Option(min=1, max=1440, help="Minutes between refreshes.")] = (
        PROFILE_REFRESH_MINUTES
    ),
    now: Annotated[bool, typer.Option("--now", help="Also refresh right away.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Refresh every customer's profile every EVERY minutes (creates or changes the schedule)."""
    cfg = load_settings()

    async def go() -> dict[str, Any]:
        handle = await set_refresh_schedule(
            await client(cfg), cfg.task_queue, timedelta(minutes=every)
        )
        if now:
            await handle.trigger()
        desc = await handle.describe()
        intervals = [
            i.every for i in desc.schedule.spec.intervals if isinstance(i, ScheduleIntervalSpec)
        ]
        return {
            "schedule": handle.id,
            "every_minutes": intervals[0] // timedelta(minutes=1),
            "paused": desc.schedule.state.paused,
            "triggered": now,
            "next_runs": [t.isoformat() for t in desc.info.next_action_times[:3]],
        }

    shown = run(go())
    if as_json:
        print_json(shown)
        return
    console.print(
        f"schedule {shown['schedule']}: profiles refresh every {every} min"
        + (" (paused)" if shown["paused"] else "")
        + ("; one refresh started now" if now else "")
    )
    console.print("next runs: " + ", ".join(shown["next_runs"]))
    if timedelta(minutes=every) > max_age():
        console.print(
            f"note: profiles count as fresh for {max_age()} "
            "(OMNIREACH_PROFILE_MAX_AGE_SECONDS); campaigns researched in between "
            "refresh them first"
        )
