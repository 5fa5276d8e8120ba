"""Human-readable output for status, list and report (the --json forms print the same data)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from models.contracts import CampaignStatus


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def show_status(console: Console, st: CampaignStatus) -> None:
    c = st.counters
    paused = " (paused)" if st.paused else ""
    console.print(f"[bold]{st.campaign_id}[/bold]  phase: [cyan]{st.phase.value}[/cyan]{paused}")
    if st.detail:
        console.print(f"  {st.detail}")
    console.print(
        f"  audience {c.audience}  holdout {c.holdout}  planned {c.planned}  "
        f"sent {c.sent}  failed {c.failed}  suppressed {c.suppressed}  spent {c.spent}"
    )


def show_list(console: Console, rows: list[dict[str, Any]]) -> None:
    table = Table("id", "name", "objective", "owner", "phase", "updated")
    for r in rows:
        table.add_row(
            r["id"], r["name"], r["objective"], r["owner"], r["phase"], r["updated_at"][:19]
        )
    console.print(table)


def show_report(console: Console, report: dict[str, Any]) -> None:
    console.print(
        f"[bold]Review · {report['name']}[/bold] ({report['campaign_id']}, "
        f"{report['objective']}, phase {report['phase']})"
    )
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
            name,
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
            console.print(f"  {name} suppressed: {reasons}")
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
                    str(b.get(k, ""))
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
    g = report["groups"]
    console.print(
        f"  treated {g['treated']} (converted {g['treated_converted']}, "
        f"{_pct(g['treated_rate'])})  holdout {g['holdout']} (converted "
        f"{g['holdout_converted']}, {_pct(g['holdout_rate'])})  lift {_pct(g['lift'])}"
    )
    for name, k in report["kpi"].items():
        verdict = "[green]met[/green]" if k["met"] else "[red]missed[/red]"
        console.print(f"  KPI {name}: target {k['target']}, actual {_num(k['actual'])} → {verdict}")


def show_findings(console: Console, campaign_id: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print(f"{campaign_id}: no compliance findings recorded (not checked yet, or clean)")
        return
    table = Table(
        "rule", "severity", "finding", "evidence", "blocked", title=f"compliance · {campaign_id}"
    )
    colour = {"block": "red", "review": "yellow", "warn": "cyan"}
    for r in rows:
        sev = f"[{colour.get(r['severity'], 'white')}]{r['severity']}[/]"
        table.add_row(r["rule_id"], sev, r["message"], r["evidence"], r["blocked"])
    console.print(table)


def show_audit(console: Console, rows: list[dict[str, Any]]) -> None:
    table = Table("#", "at", "actor", "action", "campaign", "detail")
    for r in rows:
        detail = ", ".join(f"{k}={v}" for k, v in r["detail"].items())
        table.add_row(
            str(r["id"]), r["at"][:19], r["actor"], r["action"], r["campaign_id"] or "", detail
        )
    console.print(table)
