"""`watch ID` (and `start --watch`): a campaign's progress, live, until it ends or Ctrl-C.

The phase, pause and counters come from the workflow's status query; counts per channel, the
send rate, the next send, the expected finish and pending approvals from the database. With
no worker answering, the database's view is shown with a line saying so."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text
from temporalio.client import Client

from cli.common import JsonOpt, app, client, console, load_settings, print_json, run
from cli.errors import OperatorError
from cli.operations import NoWorkerAnswered, status
from cli.progress import SHOWN, campaign_progress
from cli.views import shown
from db.campaigns import UnknownCampaign
from db.engine import engine_for, session_scope
from models.contracts import TERMINAL, CampaignStatus
from orchestration.task_queue import no_worker_hint
from settings import Settings

ENDED = {phase.value for phase in TERMINAL}


@app.command()
def watch(
    campaign_id: str,
    once: Annotated[bool, typer.Option("--once", help="Show one snapshot and exit.")] = False,
    every: Annotated[float, typer.Option(min=0.5, help="Seconds between refreshes.")] = 2.0,
    as_json: JsonOpt = False,
) -> None:
    """Follow a campaign live: phase, sends per channel, rate, next send, expected finish and
    pending approvals, until it ends (Ctrl-C stops watching, not the campaign)."""
    cfg = load_settings()
    if not once:
        if as_json:
            raise OperatorError("--json needs --once", 2)
        follow(cfg, campaign_id, every)
        return

    async def one() -> dict[str, Any]:
        return await snapshot(cfg, await client(cfg), campaign_id)

    snap = run(one())
    if as_json:
        print_json(snap)
    else:
        console.print(render(snap, datetime.now(UTC)))


def follow(cfg: Settings, campaign_id: str, every: float = 2.0) -> None:
    """Redraw the campaign's progress every `every` seconds until its phase is final."""
    try:
        run(_follow(cfg, campaign_id, every))
    except KeyboardInterrupt:
        Console(stderr=True).print("stopped watching; the campaign goes on")


async def _follow(cfg: Settings, campaign_id: str, every: float) -> None:
    temporal = await client(cfg)
    with Live(console=console, auto_refresh=False) as live:
        while True:
            snap = await snapshot(cfg, temporal, campaign_id)
            live.update(render(snap, datetime.now(UTC)), refresh=True)
            if snap["phase"] in ENDED:
                return
            await asyncio.sleep(every)


async def snapshot(cfg: Settings, temporal: Client, campaign_id: str) -> dict[str, Any]:
    """The workflow's status over the database's progress; either may be missing, not both."""
    now = datetime.now(UTC)
    with session_scope(engine_for(cfg.database_url)) as session:
        try:
            snap: dict[str, Any] | None = campaign_progress(session, campaign_id, now)
        except UnknownCampaign:
            snap = None
    st: CampaignStatus | None = None
    note = None
    try:
        st = await status(temporal, campaign_id)
    except NoWorkerAnswered as exc:
        note = str(exc)
    except OperatorError as exc:  # Temporal no longer has it (retention): the database has
        if snap is None:
            raise
        note = str(exc)
    if snap is None:
        if st is None:  # no worker answered, and none has registered it
            raise OperatorError(
                f"campaign {campaign_id} is started but no worker has picked it "
                f"up yet; {no_worker_hint(cfg.task_queue)}"
            )
        snap = {
            "campaign_id": campaign_id,
            "name": "",
            "channels": {},
            "pending": 0,
            "rate_per_second": 0.0,
            "next_send_at": None,
            "expected_finish_at": None,
            "approval": None,
        }
    if st is not None:
        snap |= {
            "phase": st.phase.value,
            "detail": st.detail,
            "counters": st.counters.model_dump(mode="json"),
        }
    snap |= {
        "paused": bool(st and st.paused),
        "counters": snap.get("counters"),
        "note": note,
        "at": now.isoformat(),
    }
    return snap


def _when(iso: str | None, now: datetime) -> str:
    if iso is None:
        return "—"
    at = datetime.fromisoformat(iso)
    secs = int((at - now).total_seconds())
    rel = "now" if abs(secs) < 1 else (f"in {_span(secs)}" if secs > 0 else f"{_span(-secs)} ago")
    return f"{at.astimezone():%Y-%m-%d %H:%M:%S} ({rel})"


def _span(secs: int) -> str:
    d, rest = divmod(secs, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    parts = [
        f"{d}d" if d else "",
        f"{h}h" if h else "",
        f"{m}m" if m else "",
        f"{s}s" if s and not d else "",
    ]
    return " ".join(p for p in parts if p) or "0s"


def render(snap: dict[str, Any], now: datetime) -> RenderableType:
    """One screen: header, per-channel table, timing and approval lines (text is escaped)."""
    paused = " [yellow](paused)[/yellow]" if snap["paused"] and snap["phase"] not in ENDED else ""
    parts: list[RenderableType] = [
        Text.from_markup(
            f"[bold]{shown(snap['name'] or snap['campaign_id'])}[/bold] "
            f"({shown(snap['campaign_id'])})  phase [cyan]{shown(snap['phase'])}[/cyan]{paused}"
        )
    ]
    if snap["detail"]:
        parts.append(Text.from_markup(f"  {shown(snap['detail'])}"))
    if snap["note"]:
        parts.append(Text.from_markup(f"[yellow]  {shown(snap['note'])}[/yellow]"))
    table = Table("channel", *SHOWN)
    totals = dict.fromkeys(SHOWN, 0)
    for channel, line in snap["channels"].items():
        table.add_row(shown(channel), *(f"{line[k]:,}" for k in SHOWN))
        for k in SHOWN:
            totals[k] += line[k]
    if len(snap["channels"]) > 1:
        table.add_row("total", *(f"{totals[k]:,}" for k in SHOWN), style="bold")
    parts.append(table)
    c = snap["counters"]
    if c:
        parts.append(
            Text(f"  audience {c['audience']:,}  holdout {c['holdout']:,}  spent {c['spent']}")
        )
    sending = snap["phase"] == "sending"  # before, times are the plan's: nothing sends yet
    parts.append(
        Text(
            f"  rate {snap['rate_per_second']:,.1f} sends/s (last minute)   "
            f"{'next send' if sending else 'first planned send'} {_when(snap['next_send_at'], now)}"
            f"   {'expected' if sending else 'planned'} finish "
            f"{_when(snap['expected_finish_at'], now)}"
        )
    )
    approval = snap["approval"]
    if approval:
        who = ", ".join(approval["approvers"]) or f"any approver but {approval['requested_by']}"
        done = ", ".join(approval["approved_by"]) or "nobody yet"
        more = approval["approvals_needed"] - len(approval["approved_by"])
        parts.append(
            Text.from_markup(
                f"  awaiting approval by {shown(who)}: approved by {shown(done)}, {more} more "
                f"needed, deadline {_when(approval['deadline'], now)}"
            )
        )
    return Group(*parts)
