"""Read-only commands: list, report, compliance findings and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select

from audit.log import verify as verify_chain
from cli import views
from cli.common import JsonOpt, app, console, load_settings, print_json
from cli.compliance_rules import rule_outcomes
from cli.errors import OperatorError
from cli.unregistered import unregistered_rows
from db.campaigns import get_campaign
from db.engine import engine_for, session_scope
from governance.plan_digest import plan_digest
from models.tables import AuditEntry, Campaign, ComplianceFinding
from planning.report import format_plan_report, load_plan_report
from reporting.html_page import render_page
from reporting.review import compute_review
from reporting.store import load_report


@app.command("list")
def list_cmd(as_json: JsonOpt = False) -> None:
    """All campaigns, newest first; started ones no worker has registered yet come first."""
    settings = load_settings()
    with session_scope(engine_for(settings.database_url)) as session:
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
    rows = unregistered_rows(settings, {r["id"] for r in rows}) + rows
    if as_json:
        print_json(rows)
    else:
        views.show_list(console, rows)


@app.command()
def report(
    campaign_id: str,
    as_json: JsonOpt = False,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write the report with charts as one HTML page."),
    ] = None,
) -> None:
    """The review report: final once stored after the attribution window; before that it is
    computed live and labelled "so far", its KPIs pending."""
    with session_scope(engine_for(load_settings().database_url)) as session:
        get_campaign(session, campaign_id)
        body = load_report(session, campaign_id, "review") or compute_review(
            session, campaign_id, datetime.now(UTC)
        )
    if html is not None:
        write_page(html, body)
    if as_json:
        print_json(body)
    else:
        views.show_report(console, body)
        if html is not None:
            console.print(f"charts written to {views.shown(html)}")


def write_page(path: Path, body: dict[str, Any]) -> None:
    try:
        path.write_text(render_page(body), encoding="utf-8")
    except OSError as err:
        raise OperatorError(f"cannot write {path}: {err.strerror}") from None


@app.command("compliance")
def compliance_cmd(campaign_id: str, as_json: JsonOpt = False) -> None:
    """Every rule of the campaign's compliance check with its outcome (pass, warn, review, block,
    not applicable), then every finding: rule, severity, evidence, what it blocked."""
    with session_scope(engine_for(load_settings().database_url)) as session:
        get_campaign(session, campaign_id)
        findings = [
            {
                "rule_id": f.rule_id,
                "severity": f.severity,
                "message": f.message,
                "evidence": f.evidence or "",
                "blocked": f.blocked or "",
                "checked_at": f.checked_at.isoformat(),
            }
            for f in session.execute(
                select(ComplianceFinding)
                .where(ComplianceFinding.campaign_id == campaign_id)
                .order_by(ComplianceFinding.id)
            ).scalars()
        ]
        rules = rule_outcomes(session, campaign_id)
    if as_json:
        print_json({"rules": rules, "findings": findings})
    else:
        views.show_rule_outcomes(console, campaign_id, rules)
        views.show_findings(console, campaign_id, findings)


@app.command("audit")
def audit_cmd(
    campaign_id: Annotated[str | None, typer.Argument()] = None,
    verify: Annotated[
        bool, typer.Option("--verify", help="Check the hash chain and its head checkpoint.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """The audit log (of one campaign, or all); --verify recomputes the keyed hash chain and
    compares its head with the signed checkpoint: one line per finding, exit 1 if any."""
    with session_scope(engine_for(load_settings().database_url)) as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if campaign_id:
            query = query.where(AuditEntry.campaign_id == campaign_id)
        rows = [
            {
                "id": e.id,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "campaign_id": e.campaign_id,
                "detail": e.detail,
                "hash": e.hash,
            }
            for e in session.execute(query).scalars()
        ]
        check = verify_chain(session, require_checkpoint=True) if verify else None
    if as_json:
        print_json(
            {
                "entries": rows,
                "verified": None if check is None else check.ok,
                "broken_at": None if check is None else check.broken_at,
                "findings": None if check is None else list(check.findings),
            }
        )
    else:
        views.show_audit(console, rows)
    if check is None:
        return
    if not check.ok:
        for finding in check.findings[:-1]:
            typer.echo(f"error: {finding}", err=True)
        raise OperatorError(check.findings[-1])
    head = check.checkpoint
    console.print(
        f"[green]audit chain intact[/green] ({check.entries} entries); "
        + (
            "no checkpoint yet (no keyed entries)"
            if head is None
            else f"head matches its checkpoint ({head.entries} entries, entry {head.last_id})"
        )
    )


@app.command("plan")
def plan_cmd(campaign_id: str, as_json: JsonOpt = False) -> None:
    """The budget report (测算) an approver decides on, with the plan's fingerprint."""
    with session_scope(engine_for(load_settings().database_url)) as session:
        get_campaign(session, campaign_id)
        body = load_plan_report(session, campaign_id)
        digest = plan_digest(session, campaign_id)
    if body is None:
        raise OperatorError(f"campaign {campaign_id} has no plan yet (still researching?)")
    if as_json:
        print_json(body | {"plan_digest": digest})
        return
    console.print(format_plan_report(body), highlight=False)
    console.print(
        f"plan fingerprint: [bold]{digest}[/bold] "
        f"(approve with --plan {digest} to approve exactly this plan)"
    )
