"""Recurring campaigns from the command line: `start` of a spec with `schedule:` creates or
changes a series, `approve`/`reject` of a series id decide it, and `schedules` lists, pauses,
unpauses and deletes the series' Temporal Schedules."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy import func, select
from temporalio.client import Client, ScheduleHandle
from temporalio.service import RPCError, RPCStatusCode

from audit.log import append as audit
from cli import views
from cli.actor import ActorOpt, actor
from cli.common import JsonOpt, app, client, console, load_settings, print_json, run
from cli.errors import OperatorError
from cli.people_commands import signed_by
from cli.preview_commands import refuse_what_would_fail
from db.engine import engine_for, session_scope
from governance.roles import NotAllowed
from governance.series import (
    UnknownSeries,
    approval_state,
    decide_series,
    get_series,
    live_series,
    save_series,
)
from governance.series_runs import run_spec
from models.contracts import Decision, SeriesRunInput
from models.series_tables import CampaignSeries, SeriesRun
from models.spec import CampaignSpec
from orchestration.series_schedule import SeriesTiming, put_series_schedule, schedule_id
from orchestration.task_queue import no_worker_hint, worker_polls
from policy.series_budget import spent
from settings import Settings

SERIES_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$")
schedules_app = typer.Typer(
    no_args_is_help=True, help="Recurring campaigns: list, pause, unpause, delete their schedules."
)
app.add_typer(schedules_app, name="schedules")


def new_series_id(now: datetime) -> str:
    return f"ser-{now:%Y%m%d}-{secrets.token_hex(3)}"


def is_series(cfg: Settings, some_id: str) -> bool:
    with session_scope(engine_for(cfg.database_url)) as session:
        found = session.get(CampaignSeries, some_id)
        return found is not None and found.deleted_at is None


def start_series(cfg: Settings, spec: CampaignSpec, requester: str, series_id: str | None) -> None:
    """Create the series (its schedule paused until approved) or give it a new version."""
    assert spec.schedule is not None
    now = datetime.now(UTC)
    sid = series_id or new_series_id(now)
    if not SERIES_ID.match(sid):
        raise OperatorError(
            f"--id {views.shown(sid)!r}: a series id is letters, digits, '.', '_' and '-', "
            "at most 48, starting with a letter or digit",
            2,
        )
    timing = SeriesTiming(spec.schedule.cron, spec.schedule.timezone, spec.schedule.until)
    inp = SeriesRunInput(
        series_id=sid,
        requested_by=requester,
        slot_seconds=cfg.send_slot_seconds,
        send_lanes=cfg.send_lanes,
        send_max_items=cfg.send_max_items,
    )

    async def go() -> tuple[str, str, str, bool | None]:
        temporal = await client(cfg)
        first = run_spec(spec.model_dump(mode="json"), spec.budget.limit, now)
        refuse_what_would_fail(cfg, first)  # as its first run would be checked now
        with session_scope(engine_for(cfg.database_url)) as session:
            try:
                change = save_series(session, sid, spec, requester, now)
            except NotAllowed as exc:
                raise OperatorError(f"refused: {exc}") from None
            series = get_series(session, sid)
            state = approval_state(session, series)
            # a new version waits for approval; the same one again only recreates a schedule
            # deleted in Temporal
            await _schedule_call(
                sid,
                lambda: put_series_schedule(
                    temporal,
                    inp,
                    timing,
                    cfg.task_queue,
                    paused=state != "approved",
                    note=f"{spec.name}: version {series.fingerprint} {state}",
                    replace=change != "unchanged",
                ),
            )
            version = series.fingerprint
        polled = await worker_polls(temporal, cfg.temporal_namespace, cfg.task_queue)
        return change, version, state, polled

    change, version, state, polled = run(go())
    err = Console(stderr=True, soft_wrap=True)
    err.print(
        f"series [bold]{views.shown(sid)}[/bold] ({views.shown(spec.name)}) {change}: "
        f"version {version}, {views.shown(state)}; runs at {spec.schedule.cron} "
        f"({spec.schedule.timezone}), budget {spec.budget.limit} a run, "
        f"{spec.schedule.total_budget} in total",
        highlight=False,
    )
    if state.startswith("awaiting"):
        err.print(f"its schedule starts no run until approved: approve {sid} --as NAME --key FILE")
    if polled is False:
        err.print(
            f"[yellow]warning:[/yellow] no worker polls task queue {cfg.task_queue}; "
            f"{no_worker_hint(cfg.task_queue)}",
            highlight=False,
        )
    typer.echo(sid)


def decide_series_cli(
    series_id: str, update: str, by: str, key: str | None, comment: str, plan: str | None
) -> None:
    """Sign and record an approval or rejection of the series' current version; the approval
    that completes it unpauses the schedule."""
    cfg = load_settings()
    engine = engine_for(cfg.database_url)
    with session_scope(engine) as session:
        version = plan or _series(session, series_id).fingerprint
    signed = signed_by(key, by, update, series_id, plan_digest=version, comment=comment)
    decision = Decision(by=by, comment=comment, plan_digest=version, signed=signed)

    async def go() -> str:
        temporal = await client(cfg)
        with session_scope(engine) as session:
            try:
                verdict = decide_series(session, series_id, update, decision, datetime.now(UTC))
            except NotAllowed as exc:
                raise OperatorError(f"refused: {exc}") from None
            if verdict.approved:
                handle = temporal.get_schedule_handle(schedule_id(series_id))
                await _schedule_call(
                    series_id, lambda: handle.unpause(note=f"approved: {verdict.message}")
                )
        return verdict.message

    console.print(views.shown(run(go())))


def _series(session: Any, series_id: str) -> CampaignSeries:
    try:
        return get_series(session, series_id)
    except UnknownSeries as exc:
        raise OperatorError(str(exc)) from None


async def _schedule_call(series_id: str, call: Callable[[], Awaitable[Any]]) -> Any:
    """A call on the series' schedule; one line if Temporal has no such schedule or refuses."""
    try:
        return await call()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise OperatorError(
                f"series {series_id} has no schedule in Temporal ({schedule_id(series_id)}); "
                "start its spec again to recreate it"
            ) from None
        raise OperatorError(f"Temporal refused: {err.message}") from None


async def _describe(temporal: Client, series: CampaignSeries) -> dict[str, Any]:
    handle = temporal.get_schedule_handle(schedule_id(series.id))
    try:
        described = await handle.describe()
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise OperatorError(f"Temporal refused: {err.message}") from None
        return {"schedule": "missing", "paused": None, "next_run": None}
    upcoming = described.info.next_action_times
    return {
        "schedule": handle.id,
        "paused": described.schedule.state.paused,
        "next_run": upcoming[0].isoformat()
        if upcoming and not described.schedule.state.paused
        else None,
    }


def _rows(cfg: Settings) -> list[tuple[CampaignSeries, dict[str, Any]]]:
    with session_scope(engine_for(cfg.database_url)) as session:
        found = []
        for series in live_series(session):
            runs = session.scalar(
                select(func.count())
                .select_from(SeriesRun)
                .where(SeriesRun.series_id == series.id, SeriesRun.campaign_id.is_not(None))
            )
            found.append(
                (
                    series,
                    {
                        "series": series.id,
                        "name": series.name,
                        "cron": series.cron,
                        "timezone": series.timezone,
                        "approval": approval_state(session, series),
                        "version": series.fingerprint,
                        "runs": runs,
                        "spent": str(spent(session, series.id)),
                        "run_budget": str(series.run_budget),
                        "total_budget": str(series.total_budget),
                    },
                )
            )
        session.expunge_all()
    return found


@schedules_app.command("list")
def schedules_list(as_json: JsonOpt = False) -> None:
    """Every series: cron and time zone, next run, paused, runs so far, spent of the total."""
    cfg = load_settings()

    async def go() -> list[dict[str, Any]]:
        temporal = await client(cfg)
        return [row | await _describe(temporal, series) for series, row in _rows(cfg)]

    rows = run(go())
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no recurring campaigns (start a spec with a schedule: to create one)")
    for r in rows:
        paused = "paused" if r["paused"] else "missing" if r["paused"] is None else "active"
        console.print(
            f"{views.shown(r['series'])}  {views.shown(r['name'])}  "
            f"[{r['cron']}] {r['timezone']}  {paused}  next {r['next_run'] or '-'}  "
            f"runs {r['runs']}  spent {r['spent']} of {r['total_budget']} "
            f"({r['run_budget']} a run)  {views.shown(r['approval'])}",
            highlight=False,
        )


def _act(series_id: str, as_: str | None, action: str) -> str:
    """Pause, unpause or delete the series' schedule as `as_`, audited."""
    by = actor(as_, action)
    cfg = load_settings()
    now = datetime.now(UTC)

    async def go() -> str:
        temporal = await client(cfg)
        handle: ScheduleHandle = temporal.get_schedule_handle(schedule_id(series_id))
        with session_scope(engine_for(cfg.database_url)) as session:
            series = _series(session, series_id)
            state = approval_state(session, series)
            if action == "unpause" and state != "approved":
                raise OperatorError(
                    f"refused: series {series_id} is {state}; it runs once approved"
                )
            note = f"{action}d by {by}"
            calls: dict[str, Callable[[], Awaitable[Any]]] = {
                "pause": lambda: handle.pause(note=note),
                "unpause": lambda: handle.unpause(note=note),
                "delete": handle.delete,
            }
            await _schedule_call(series_id, calls[action])
            if action == "delete":
                series.deleted_at = now
            audit(session, at=now, actor=by, action=f"series.{action}", campaign_id=series_id)
        return f"series {series_id} {note}"

    return run(go())


@schedules_app.command("pause")
def schedules_pause(series_id: str, as_: ActorOpt = None) -> None:
    """Start no more runs until unpaused (runs already started go on)."""
    console.print(views.shown(_act(series_id, as_, "pause")))


@schedules_app.command("unpause")
def schedules_unpause(series_id: str, as_: ActorOpt = None) -> None:
    """Start runs again at the series' cron times (only while its version is approved)."""
    console.print(views.shown(_act(series_id, as_, "unpause")))


@schedules_app.command("delete")
def schedules_delete(
    series_id: str,
    as_: ActorOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete the series' schedule: no more runs (runs already started go on; the ledger and
    audit log stay)."""
    if not yes:
        typer.confirm(f"Delete series {series_id} and its schedule?", abort=True)
    console.print(views.shown(_act(series_id, as_, "delete")))
