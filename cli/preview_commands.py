"""`preview SPEC`: what a campaign would do if started now — audience, plan, what would not be
sent and why, cost and its assumptions, compliance findings, rendered messages — without a
worker and without writing anything. `start` runs the same preview and refuses a campaign the
compliance check would block or that would send nothing."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console

from channels.configured import real_provider
from cli.common import JsonOpt, app, console, load_settings, print_json
from cli.errors import OperatorError
from cli.spec_file import BAD_SPEC, load_spec_file
from cli.views import shown
from db.engine import engine_for
from models.spec import CampaignSpec
from planning.report import format_plan_report
from preview.dry_run import Preview, dry_run
from settings import PUBLIC_URL_ENV, Settings, public_url


@app.command()
def preview(spec_file: Path, as_json: JsonOpt = False) -> None:
    """Show what SPEC_FILE would do if started now (needs the database, not a worker; writes
    nothing)."""
    spec = load_spec_file(spec_file, datetime.now(UTC))
    found = run_preview(load_settings(), spec)
    if as_json:
        print_json(found.model_dump(mode="json"))
    else:
        show_preview(console, found)


def run_preview(cfg: Settings, spec: CampaignSpec) -> Preview:
    engine = engine_for(cfg.database_url)
    try:
        return dry_run(engine, spec, datetime.now(UTC))
    except ValueError as exc:  # a configuration the planning or the rules cannot use
        raise OperatorError(f"cannot preview: {exc}") from None
    finally:
        engine.dispose()


def refuse_what_would_fail(cfg: Settings, spec: CampaignSpec) -> Preview:
    """What the compliance check would block after approval, or a campaign that would send
    nothing, is refused before anyone is asked to approve it."""
    found = run_preview(cfg, spec)
    if found.blocking:
        lines = "; ".join(
            f"{f.rule_id} ({f.channel or 'the plan'}): {f.message}" for f in found.blocking
        )
        raise OperatorError(f"spec refused by the compliance rules: {lines}", BAD_SPEC)
    if found.nothing_sent:
        raise OperatorError(f"campaign would send nothing: {found.nothing_sent}", BAD_SPEC)
    return found


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_loopback_links(spec: CampaignSpec) -> None:
    """Links customers get through a real provider must reach the opt-out service from the
    internet, not this machine."""
    real = sorted({p.channel for p in spec.channels if real_provider(p.channel)})
    if real and _loopback(public_url()):
        raise OperatorError(
            f"{PUBLIC_URL_ENV} is {public_url()} (loopback) but {', '.join(real)} go(es) through "
            f"a real provider: set {PUBLIC_URL_ENV} to the public address of the opt-out service"
        )


def show_preview(out: Console, p: Preview) -> None:
    out.print(
        f"[bold]Preview of {shown(p.name)}[/bold] (as of "
        f"{p.as_of.isoformat(timespec='seconds')}; nothing was written)"
    )
    reach = ", ".join(f"{c} {n:,}" for c, n in p.reachable_by_channel.items())
    out.print(
        f"Audience {p.audience:,}: holdout {p.holdout:,}, targeted {p.targeted:,} "
        f"(reachable: {reach})",
        highlight=False,
    )
    if p.excluded:
        out.print("Not reachable: " + _counts(p.excluded), highlight=False)
    if p.plan:
        out.print(format_plan_report(p.plan), highlight=False)
    if p.skipped_at_send:
        out.print(
            "Would be skipped at send time: "
            + _counts(p.skipped_at_send)
            + " (frequency caps counted with the other running campaigns' planned sends)",
            highlight=False,
        )
    out.print(f"Expected sends: {p.expected_sends:,}", highlight=False)
    for channel, window in sorted(p.sending_windows.items()):
        out.print(
            f"Legal marketing window for {channel}: {window}, local to each customer "
            "(applies on top of the quiet hours)",
            highlight=False,
        )
    _assumptions(out, p)
    out.print(
        "[bold]Compliance[/bold]"
        + (": no findings" if not p.findings else " (severity, rule, channel, finding [evidence]):")
    )
    for f in p.findings:
        evidence = f" [{shown(f.evidence)}]" if f.evidence else ""
        out.print(
            f"  {f.severity.value:<6} {f.rule_id} {shown(f.channel or '')} "
            f"{shown(f.message)}{evidence}",
            highlight=False,
        )
    out.print("[bold]Messages[/bold] (PII masked):")
    for s in p.samples:
        subject = f" subject: {shown(s.subject)} |" if s.subject else ""
        body = shown(s.body.strip()).replace("\n", "\n    ")
        out.print(
            f"  {s.channel} to {shown(s.to)} at {shown(s.at)}:{subject} {body}", highlight=False
        )
    if p.nothing_sent:
        out.print(f"[red]would send nothing:[/red] {shown(p.nothing_sent)}", highlight=False)


def _assumptions(out: Console, p: Preview) -> None:
    a = p.plan.get("assumptions")
    if not a:
        return
    out.print(
        f"ROI assumes the last {a['history_days']} days of this retailer's history "
        f"(conversions within {a['attribution_days']} days of a click), per channel and "
        "segment: response rate · conversion rate · order value",
        highlight=False,
    )
    for r in a["rates"]:
        out.print(
            f"  {r['channel']:<12} {r['segment']:<9} {r['response_rate']:.2%} · "
            f"{r['conversion_rate']:.2%} · {r['order_value']:,.2f}",
            highlight=False,
        )


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {n:,}" for k, n in sorted(counts.items()))
