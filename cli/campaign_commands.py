"""Commands that act on a running campaign: start, approve, reject, pause, resume, cancel, status."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from cli import views
from cli.actor import ActorOpt, actor
from cli.common import JsonOpt, app, client, console, load_settings, print_json, run
from cli.errors import OperatorError
from cli.operations import decide, signal, start_campaign, status
from cli.people_commands import KeyOpt, signed_by
from cli.preview_commands import refuse_loopback_links, refuse_what_would_fail
from cli.series_commands import decide_series_cli, is_series, start_series
from cli.spec_file import load_spec_file
from cli.watch_commands import follow
from compliance.check import Severity, check_content
from db.campaigns import get_campaign
from db.engine import engine_for, session_scope
from governance.plan_digest import plan_digest
from models.contracts import Decision
from models.spec import CampaignSpec
from orchestration.task_queue import no_worker_hint, worker_polls
from settings import Settings


@app.command()
def start(
    spec_file: Path,
    as_: ActorOpt = None,
    campaign_id: Annotated[str | None, typer.Option("--id", help="Choose the id.")] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Then follow it live.")] = False,
) -> None:
    """Validate SPEC_FILE and start its campaign workflow (as --as or $OMNIREACH_ACTOR); a
    spec with `schedule:` creates (or changes) a recurring campaign, approved once."""
    spec = load_spec_file(spec_file, datetime.now(UTC))
    refuse_unsafe_content(spec)
    refuse_loopback_links(spec)
    requester = actor(as_, "start")
    cfg = load_settings()
    if spec.schedule is not None:
        if watch:
            raise OperatorError("--watch follows one campaign; a recurring one has many runs", 2)
        start_series(cfg, spec, requester, campaign_id)
        return

    async def go() -> tuple[str, bool | None]:
        temporal = await client(cfg)
        refuse_what_would_fail(cfg, spec)
        cid = await start_campaign(temporal, cfg, spec, requester, campaign_id)
        return cid, await worker_polls(temporal, cfg.temporal_namespace, cfg.task_queue)

    cid, polled = run(go())
    err = Console(stderr=True, soft_wrap=True)
    err.print(
        f"started campaign [bold]{views.shown(cid)}[/bold] ({views.shown(spec.name)}) "
        f"requested by {views.shown(requester)}"
    )
    if polled is False:
        err.print(
            f"[yellow]warning:[/yellow] no worker polls task queue {cfg.task_queue}: the "
            f"campaign waits until one does; {no_worker_hint(cfg.task_queue)}",
            highlight=False,
        )
    typer.echo(cid)
    if watch:
        follow(cfg, cid)


def refuse_unsafe_content(spec: CampaignSpec) -> None:
    """Templates compile and the content rules pass before a campaign starts: an approver is
    never asked to approve content the compliance check would block."""
    findings = check_content(spec)
    blocks = [f for f in findings if f.severity is Severity.BLOCK]
    if blocks:
        lines = "; ".join(
            f"{f.rule_id} ({f.channel or 'all channels'}): {f.message}" for f in blocks
        )
        raise OperatorError(f"spec refused by the content rules: {lines}", 2)


SERIES_UPDATES = {"approve", "reject"}  # what a recurring campaign's id can receive


def current_digest(cfg: Settings, campaign_id: str) -> str:
    """The fingerprint of the plan as it stands: what `plan` shows the approver."""
    with session_scope(engine_for(cfg.database_url)) as session:
        get_campaign(session, campaign_id)
        return plan_digest(session, campaign_id)


def _decision(
    campaign_id: str,
    update: str,
    by: str,
    key: str | None,
    comment: str = "",
    plan: str | None = None,
) -> None:
    """Sign the decision with the decider's key and send it; approvals bind to the plan
    fingerprint shown (the current one when --plan is not given)."""
    cfg = load_settings()
    if update in SERIES_UPDATES and is_series(cfg, campaign_id):
        decide_series_cli(campaign_id, update, by, key, comment, plan)
        return
    if plan is None and update == "approve":
        plan = current_digest(cfg, campaign_id)
    signed = signed_by(key, by, update, campaign_id, plan_digest=plan, comment=comment)
    decision = Decision(by=by, comment=comment, plan_digest=plan, signed=signed)

    async def go() -> str:
        return await decide(await client(cfg), campaign_id, update, decision)

    console.print(views.shown(run(go())))


AsOpt = Annotated[str, typer.Option("--as", help="Who decides (your enrolled name).")]


@app.command()
def approve(
    campaign_id: str,
    as_: AsOpt,
    comment: Annotated[str, typer.Option(help="Why.")] = "",
    plan: Annotated[str | None, typer.Option(help="The plan fingerprint shown by `plan`.")] = None,
    key: KeyOpt = None,
) -> None:
    """Approve a campaign's plan and budget, or a recurring campaign's current version (as an
    approver; never your own)."""
    _decision(campaign_id, "approve", as_, key, comment, plan)


@app.command()
def reject(
    campaign_id: str,
    as_: AsOpt,
    reason: Annotated[str, typer.Option(help="Why (required).")],
    key: KeyOpt = None,
) -> None:
    """Reject a campaign's plan and budget, or a recurring campaign's current version."""
    _decision(campaign_id, "reject", as_, key, reason)


@app.command("compliance-ok")
def compliance_ok(
    campaign_id: str,
    as_: AsOpt,
    comment: Annotated[str, typer.Option(help="Why.")] = "",
    key: KeyOpt = None,
) -> None:
    """Clear a campaign held for compliance review (as a compliance officer)."""
    _decision(campaign_id, "compliance_ok", as_, key, comment)


@app.command("compliance-reject")
def compliance_reject(
    campaign_id: str,
    as_: AsOpt,
    reason: Annotated[str, typer.Option(help="Why (required).")],
    key: KeyOpt = None,
) -> None:
    """Stop a campaign held for compliance review."""
    _decision(campaign_id, "compliance_reject", as_, key, reason)


def _signal(campaign_id: str, name: str, as_: str | None) -> None:
    by = actor(as_, name)
    cfg = load_settings()

    async def go() -> Any:
        return await signal(await client(cfg), campaign_id, name, by)

    views.show_status(console, run(go()))


@app.command()
def pause(campaign_id: str, as_: ActorOpt = None) -> None:
    """Pause a campaign (no new sends until resumed); audited as --as or $OMNIREACH_ACTOR."""
    _signal(campaign_id, "pause", as_)


@app.command()
def resume(campaign_id: str, as_: ActorOpt = None) -> None:
    """Resume a paused campaign; audited as --as or $OMNIREACH_ACTOR."""
    _signal(campaign_id, "resume", as_)


@app.command()
def cancel(campaign_id: str, as_: ActorOpt = None) -> None:
    """Cancel a campaign; sends not yet made are closed as cancelled. Audited as --as or
    $OMNIREACH_ACTOR."""
    _signal(campaign_id, "cancel", as_)


@app.command("status")
def status_cmd(campaign_id: str, as_json: JsonOpt = False) -> None:
    """Phase and counters of a campaign."""
    cfg = load_settings()

    async def go() -> Any:
        return await status(await client(cfg), campaign_id)

    st = run(go())
    if as_json:
        print_json(st.model_dump(mode="json"))
    else:
        views.show_status(console, st)
