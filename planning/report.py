"""The plan report (测算) the approver reads: built as JSON, stored, loaded, printed as a table."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from models.spec import CampaignSpec
from models.tables import CampaignReport
from planning.budget import BudgetFit
from planning.costs import from_units
from planning.rates import ATTRIBUTION_DAYS, HISTORY_DAYS, Rates

KIND = "plan"


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def build_report(
    campaign_id: str,
    spec: CampaignSpec,
    as_of: datetime,
    lines: list[dict[str, Any]],
    not_planned: dict[str, int],
    fit: BudgetFit,
    rates: dict[tuple[str, str], Rates],
    span: tuple[datetime | None, datetime | None],
    steps: list[dict[str, Any]],
) -> dict[str, Any]:
    """The report; `steps` are a journey's per-send-step upper bounds (planning.journey_reach),
    empty without steps."""
    cost = sum((Decimal(x["cost"]) for x in lines), Decimal(0))
    revenue = round(sum(x["expected_revenue"] for x in lines), 2)
    return {
        "kind": KIND,
        "campaign_id": campaign_id,
        "as_of": as_of.isoformat(),
        "currency": spec.budget.currency,
        "budget": {
            "limit": str(spec.budget.limit),
            "fits": fit.fits,
            "cost_before_fit": str(from_units(fit.cost_before_units)),
            "dropped_to_fit": fit.dropped,
            "dropped_by_channel": fit.dropped_by_channel,
        },
        "channels": lines,
        "steps": steps,
        "totals": {
            "planned": sum(x["planned"] for x in lines),
            "cost": str(cost),
            "expected_responses": round(sum(x["expected_responses"] for x in lines), 2),
            "expected_conversions": round(sum(x["expected_conversions"] for x in lines), 2),
            "expected_revenue": revenue,
            "roi": round(revenue / float(cost), 4) if cost else None,
        },
        "not_planned": not_planned,
        "send_window": {
            "start": spec.send_window.start.isoformat(),
            "end": spec.send_window.end.isoformat(),
        },
        "first_send_at": _iso(span[0]),
        "last_send_at": _iso(span[1]),
        "assumptions": {
            "history_days": HISTORY_DAYS,
            "attribution_days": ATTRIBUTION_DAYS,
            "rates": [
                {
                    "channel": c,
                    "segment": s,
                    "response_rate": round(r.response, 5),
                    "conversion_rate": round(r.conversion, 5),
                    "order_value": round(r.order_value, 2),
                }
                for (c, s), r in sorted(rates.items())
            ],
        },
    }


def store_report(session: Session, campaign_id: str, report: dict[str, Any], at: datetime) -> None:
    session.merge(CampaignReport(campaign_id=campaign_id, kind=KIND, body=report, created_at=at))
    session.flush()


def load_plan_report(session: Session, campaign_id: str) -> dict[str, Any] | None:
    row = session.get(CampaignReport, (campaign_id, KIND))
    return dict(row.body) if row is not None else None


def _money(value: object) -> str:
    return f"{Decimal(str(value)):,.4f}"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    """Rows in columns: the first two left-aligned (names), the rest right-aligned (numbers)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            v.ljust(w) if i < 2 else v.rjust(w)
            for i, (v, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in rows
    ]


def _steps(steps: list[dict[str, Any]], cur: str) -> list[str]:
    """A journey's send steps, each at most: customers reaching it, and their cost on its
    cheapest channel."""
    if not steps:
        return []
    rows: list[tuple[str, ...]] = [
        ("step", "channel", "reach at most", "unit cost", "cost at most")
    ]
    rows += [
        (
            x["step"],
            x["channel"],
            f"{x['at_most']:,}",
            _money(x["unit_cost"]),
            f"{_money(x['cost_at_most'])} {cur}",
        )
        for x in steps
    ]
    return [
        "",
        "Journey send steps, at most: random splits applied, other branches counted both",
        "ways, loops once; each priced at its cheapest channel",
        *_table(rows),
    ]


def format_plan_report(report: dict[str, Any]) -> str:
    """A plain-text table for the approver (fits an 100-column terminal)."""
    budget, totals = report["budget"], report["totals"]
    cur = report["currency"]
    out = [
        f"Plan for campaign {report['campaign_id']} (as of {report['as_of']})",
        f"Send window {report['send_window']['start']} → {report['send_window']['end']}; "
        f"first send {report['first_send_at'] or '-'}, last {report['last_send_at'] or '-'}",
    ]
    if budget["fits"]:
        out.append(
            f"Budget {_money(budget['limit'])} {cur}: plan costs {_money(totals['cost'])}"
            f" {cur} — fits"
        )
    else:
        shrunk = ", ".join(f"{c} −{n}" for c, n in sorted(budget["dropped_by_channel"].items()))
        out.append(
            f"Budget {_money(budget['limit'])} {cur}: the full plan would cost "
            f"{_money(budget['cost_before_fit'])} {cur} — does NOT fit; dropped "
            f"{budget['dropped_to_fit']} lowest-return customers ({shrunk}) to "
            f"{_money(totals['cost'])} {cur}"
        )
    head = (
        "rank",
        "channel",
        "planned",
        "unit cost",
        "cost",
        "exp.resp",
        "exp.conv",
        "exp.revenue",
        "ROI",
    )
    rows: list[tuple[str, ...]] = [head]
    for x in report["channels"]:
        rows.append(
            (
                str(x["rank"]),
                x["channel"],
                f"{x['planned']:,}",
                _money(x["unit_cost"]),
                _money(x["cost"]),
                f"{x['expected_responses']:,.1f}",
                f"{x['expected_conversions']:,.1f}",
                f"{x['expected_revenue']:,.2f}",
                "free" if x["roi"] is None else f"{x['roi']:.2f}",
            )
        )
    rows.append(
        (
            "",
            "total",
            f"{totals['planned']:,}",
            "",
            _money(totals["cost"]),
            f"{totals['expected_responses']:,.1f}",
            f"{totals['expected_conversions']:,.1f}",
            f"{totals['expected_revenue']:,.2f}",
            "-" if totals["roi"] is None else f"{totals['roi']:.2f}",
        )
    )
    out.append("")
    out += _table(rows)
    out += _steps(report.get("steps") or [], cur)
    if report["not_planned"]:
        out.append("")
        out.append(
            "Not planned: "
            + ", ".join(f"{reason} {n:,}" for reason, n in sorted(report["not_planned"].items()))
        )
    return "\n".join(out)
