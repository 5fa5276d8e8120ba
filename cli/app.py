"""`python starter.py COMMAND`: the operators' and approvers' CLI. It never sends anything."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy import select

from cli import views
from cli.errors import OperatorError
from cli.operations import decide, signal, start_campaign, status
from cli.spec_file import load_spec_file
from db.campaigns import get_campaign
from db.engine import engine_for, session_scope
from demo.seed import seed_demo
from models.contracts import Decision
from models.tables import Campaign
from orchestration.client import connect
from reporting.review import compute_review
from reporting.store import load_report
from settings import Settings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="omnireach: start, approve, watch and review marketing campaigns.",
)
console = Console()
T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _run(make: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(make)


async def _client(settings: Settings) -> Any:
    try:
        return await connect(settings)
    except RuntimeError as exc:
        raise OperatorError(
            f"cannot reach Temporal at {settings.temporal_address}: {exc}"
        ) from None


def _settings() -> Settings:
    return Settings.from_env()


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@app.command()
def start(
    spec_file: Path,
    as_: Annotated[str | None, typer.Option("--as", help="Who requests the campaign.")] = None,
    campaign_id: Annotated[str | None, typer.Option("--id", help="Choose the id.")] = None,
) -> None:
    """Validate SPEC_FILE and start its campaign workflow."""
    spec = load_spec_file(spec_file, datetime.now(UTC))
    requester = as_ or os.environ.get("OMNIREACH_USER") or getpass.getuser()
    settings = _settings()

    async def go() -> str:
        return await start_campaign(await _client(settings), settings, spec, requester, campaign_id)

    cid = _run(go())
    Console(stderr=True).print(
        f"started campaign [bold]{cid}[/bold] ({spec.name}) requested by {requester}"
    )
    typer.echo(cid)


def _decision(campaign_id: str, approve: bool, by: str, comment: str) -> None:
    settings = _settings()

    async def go() -> str:
        return await decide(
            await _client(settings), campaign_id, approve, Decision(by=by, comment=comment)
        )

    console.print(_run(go()))


@app.command()
def approve(
    campaign_id: str,
    as_: Annotated[str, typer.Option("--as", help="Approver name.")],
    comment: Annotated[str, typer.Option(help="Why.")] = "",
) -> None:
    """Approve a campaign's plan and budget."""
    _decision(campaign_id, True, as_, comment)


@app.command()
def reject(
    campaign_id: str,
    as_: Annotated[str, typer.Option("--as", help="Approver name.")],
    reason: Annotated[str, typer.Option(help="Why (required).")],
) -> None:
    """Reject a campaign's plan and budget."""
    _decision(campaign_id, False, as_, reason)


def _signal(campaign_id: str, name: str) -> None:
    settings = _settings()

    async def go() -> Any:
        return await signal(await _client(settings), campaign_id, name)

    views.show_status(console, _run(go()))


@app.command()
def pause(campaign_id: str) -> None:
    """Pause a campaign (no new sends until resumed)."""
    _signal(campaign_id, "pause")


@app.command()
def resume(campaign_id: str) -> None:
    """Resume a paused campaign."""
    _signal(campaign_id, "resume")


@app.command()
def cancel(campaign_id: str) -> None:
    """Cancel a campaign; sends not yet made are closed as cancelled."""
    _signal(campaign_id, "cancel")


@app.command("status")
def status_cmd(campaign_id: str, as_json: JsonOpt = False) -> None:
    """Phase and counters of a campaign."""
    settings = _settings()

    async def go() -> Any:
        return await status(await _client(settings), campaign_id)

    st = _run(go())
    if as_json:
        _print_json(st.model_dump(mode="json"))
    else:
        views.show_status(console, st)


@app.command("list")
def list_cmd(as_json: JsonOpt = False) -> None:
    """All campaigns, newest first."""
    with session_scope(engine_for(_settings().database_url)) as session:
        rows = [
            {
                "id": c.id,
                "name": c.name,
                "objective": c.objective,
                "owner": c.owner,
                "phase": c.phase,
                "detail": c.detail or "",
                "updated_at": c.updated_at.isoformat(),
            }
            for c in session.execute(
                select(Campaign).order_by(Campaign.created_at.desc())
            ).scalars()
        ]
    if as_json:
        _print_json(rows)
    else:
        views.show_list(console, rows)


@app.command()
def report(campaign_id: str, as_json: JsonOpt = False) -> None:
    """The review report (stored at review time; computed live before that)."""
    with session_scope(engine_for(_settings().database_url)) as session:
        get_campaign(session, campaign_id)
        body = load_report(session, campaign_id, "review") or compute_review(
            session, campaign_id, datetime.now(UTC)
        )
    if as_json:
        _print_json(body)
    else:
        views.show_report(console, body)


@app.command("seed-demo")
def seed_demo_cmd(
    customers: Annotated[int, typer.Option(min=10, max=1_000_000)] = 3000,
    seed: Annotated[int, typer.Option()] = 20231125,
) -> None:
    """Fill an empty database with the synthetic demo customer base."""
    with session_scope(engine_for(_settings().database_url)) as session:
        made = seed_demo(session, customers=customers, seed=seed)
    if made is None:
        console.print("demo data already present; nothing seeded")
    else:
        console.print(
            f"seeded {made.customers} customers, {made.orders} orders, "
            f"{made.events} behavior events, {made.consents} consents"
        )
