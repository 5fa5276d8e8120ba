"""Human-readable output for status, list and report (the --json forms print the same data)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from content.neutralize import printable
from models.contracts import CampaignStatus
from reporting import journey_table as jt
from reporting.so_far import ended_unreviewed, is_final, standing


def shown(value: object) -> str:
    """Names, owners, details and messages come from specs, imports and approvers: control
    codes are made visible and rich markup is printed as text, never applied."""
    return escape(printable(str(value)))


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def show_status(console: Console, st: CampaignStatus) -> None:
    c = st.counters
    paused = " (paused)" if st.paused else ""
    console.print(
        f"[bold]{shown(st.campaign_id)}[/bold]  phase: [cyan]{shown(st.phase.value)}[/cyan]{paused}"
    )
    if st.detail:
        console.print(f"  {shown(st.detail)}")
    console.print(
        f"  audience {c.audience}  holdout {c.holdout}  planned {c.planned}  "
        f"sent {c.sent}  failed {c.failed}  suppressed {c.suppressed}  spent {c.spent}"
    )
    if st.journey or st.journey_ended:
        at = "  ".join(f"{shown(step)} {n}" for step, n in st.journey.items()) or "none"
        ended = "  ".join(f"{shown(state)} {n}" for state, n in st.journey_ended.items())
        console.print(f"  journey: at {at}" + (f"; ended {ended}" if ended else ""))


def show_list(console: Console, rows: list[dict[str, Any]]) -> None:
    table = Table("id", "name", "objective", "owner", "phase", "updated")
    for r in rows:
        table.add_row(
            *(shown(r[k]) for k in ("id", "name", "objective", "owner", "phase")),
            r["updated_at"][:19],
        )
    console.print(table)


def show_report(console: Console, report: dict[str, Any]) -> None:
    console.print(
        f"[bold]Review · {shown(report['name'])}[/bold] ({shown(report['campaign_id'])}, "
        f"{shown(report['objective'])}, phase {shown(report['phase'])})"
    )
    colour = "green" if is_final(report) else "yellow"
    console.print(f"  [{colour}]{shown(standing(report))}[/{colour}]")
    table = Table(
        "channel",
        "planned",
        "sent",
        "delivered",
        "opened",
        "clicked",
        "unsub",
        "failed",
        "suppressed",
        "conversions",
        "revenue",
        "cost",
        "ROI",
        title="addressable channels",
    )
    rows = list(report["channels"].items()) + [("total", report["total"])]
    for name, line in rows:
        table.add_row(
            shown(name),
            *(
                str(line.get(k, ""))
                for k in (
                    "planned",
                    "sent",
                    "delivered",
                    "opened",
                    "clicked",
                    "unsubscribed",
                    "failed",
                    "suppressed",
                    "conversions",
                    "revenue",
                    "cost",
                )
            ),
            _num(line["roi"]),
        )
    console.print(table)
    for name, line in report["channels"].items():
        if line.get("suppressed_by"):
            reasons = ", ".join(f"{k} {v}" for k, v in sorted(line["suppressed_by"].items()))
            console.print(f"  {shown(name)} suppressed: {shown(reasons)}")
    if report.get("broadcast"):
        lines = Table(
            "line",
            "channel",
            "planned cost",
            "actual cost",
            "impressions",
            "clicks",
            "visits",
            "leads",
            "ROI",
            title="broadcast channels",
        )
        for b in report["broadcast"]:
            lines.add_row(
                *(
                    shown(b.get(k, ""))
                    for k in (
                        "line",
                        "channel",
                        "planned_cost",
                        "actual_cost",
                        "impressions",
                        "clicks",
                        "visits",
                        "leads",
                    )
                ),
                _num(b.get("roi")),
            )
        console.print(lines)
    if report.get("journey"):
        _show_journey(console, report)
    g = report["groups"]
    console.print(
        f"  treated {g['treated']} (converted {g['treated_converted']}, "
        f"{_pct(g['treated_rate'])})  holdout {g['holdout']} (converted "
        f"{g['holdout_converted']}, {_pct(g['holdout_rate'])})  lift {_pct(g['lift'])}"
        + (
            ""
            if not g.get("lift_ci")
            else f" (95 % CI {_pct(g['lift_ci'][0])} to {_pct(g['lift_ci'][1])})"
        )
    )
    pending = "not judged" if ended_unreviewed(report) else "pending"
    for name, k in report["kpi"].items():
        console.print(f"  KPI {name}: target {k['target']}, {_kpi_verdict(k, pending)}")


def _table(table: jt.Table, title: str) -> Table:
    header, rows = table
    out = Table(*header, title=title)
    for row in rows:
        out.add_row(*(shown(cell) for cell in row))
    return out


def _show_journey(console: Console, report: dict[str, Any]) -> None:
    """Each step's counts, then each A/B test's variants against the control."""
    console.print(_table(jt.step_table(report["journey"]), "journey steps"))
    for line in jt.suppressed_lines(report["journey"]):
        console.print(f"  {shown(line)}")
    for step in jt.tested_steps(report):
        console.print(_table(jt.variant_table(step), f"step {step['id']}: variants"))
        console.print(_table(jt.comparison_table(step), f"step {step['id']}: against the control"))
        winner = jt.winner_line(step)
        if winner:
            console.print(f"  {shown(winner)}")


def _kpi_verdict(k: dict[str, Any], pending: str) -> str:
    """A final KPI is met or missed; before the review it is pending, whatever it shows."""
    if k["met"] is None:
        ahead = k["actual"] is not None and k["actual"] >= k["target"]
        return f"so far {_num(k['actual'])} → [yellow]{pending}[/yellow]" + (
            " (on track)" if ahead and pending == "pending" else ""
        )
    verdict = "[green]met[/green]" if k["met"] else "[red]missed[/red]"
    return f"actual {_num(k['actual'])} → {verdict}"


def show_findings(console: Console, campaign_id: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print(
            f"{shown(campaign_id)}: no compliance findings recorded (not checked yet, or clean)"
        )
        return
    table = Table(
        "rule",
        "severity",
        "finding",
        "evidence",
        "blocked",
        title=f"compliance · {shown(campaign_id)}",
    )
    colour = {"block": "red", "review": "yellow", "warn": "cyan"}
    for r in rows:
        sev = f"[{colour.get(r['severity'], 'white')}]{shown(r['severity'])}[/]"
        table.add_row(
            shown(r["rule_id"]), sev, *(shown(r[k]) for k in ("message", "evidence", "blocked"))
        )
    console.print(table)


def show_rule_outcomes(console: Console, campaign_id: str, rows: list[dict[str, Any]]) -> None:
    """Every rule with its outcome, so nothing the check did not run goes unseen."""
    table = Table("rule", "outcome", "requires", "why", title=f"rules · {shown(campaign_id)}")
    colour = {"block": "red", "review": "yellow", "warn": "cyan", "pass": "green"}
    for r in rows:
        outcome = f"[{colour.get(r['status'], 'white')}]{shown(r['status'])}[/]"
        table.add_row(shown(r["rule_id"]), outcome, shown(r["title"]), shown(r["reason"]))
    console.print(table)


def show_audit(console: Console, rows: list[dict[str, Any]]) -> None:
    table = Table("#", "at", "actor", "action", "campaign", "detail")
    for r in rows:
        detail = ", ".join(
            f"{k}={f'{len(v)} rules' if isinstance(v, dict) else v}" for k, v in r["detail"].items()
        )
        table.add_row(
            str(r["id"]),
            r["at"][:19],
            *(shown(v) for v in (r["actor"], r["action"], r["campaign_id"] or "", detail)),
        )
    console.print(table)
