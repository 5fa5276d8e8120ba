"""The report's charts as plotly figures, drawn only from the report's own data (the JSON that
`report --json` prints), so the page and the JSON never disagree. Labels that come from a spec
(broadcast line names) are scrubbed of phone numbers and e-mail addresses."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from privacy.masking import scrub
from reporting.so_far import is_final

FUNNEL = (
    ("reach (sent)", "sent"),
    ("delivered", "delivered"),
    ("opened", "opened"),
    ("clicked", "clicked"),
    ("converted", "conversions"),
)
KPI_NAMES = {
    "reach_rate": "reach rate",
    "conversion_rate": "conversion rate",
    "roi": "ROI",
    "lift": "lift",
}
PALETTE = qualitative.Plotly
BUDGET_GREY = "#9e9e9e"
LAYOUT = dict(template="plotly_white", height=420, margin=dict(l=60, r=30, t=70, b=60))


def _colours(report: dict[str, Any]) -> dict[str, str]:
    """One colour per channel in every chart."""
    names = sorted(
        set(report.get("channels") or {})
        | set((report.get("timeline") or {}).get("channels") or {})
    )
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def _so_far(report: dict[str, Any]) -> str:
    return "" if is_final(report) else " (so far)"


def sends_over_time(report: dict[str, Any]) -> go.Figure | None:
    timeline = report.get("timeline") or {}
    if not timeline.get("channels"):
        return None
    colour = _colours(report)
    fig = go.Figure(
        [
            go.Bar(
                x=[start for start, _ in points],
                y=[n for _, n in points],
                name=channel,
                marker_color=colour[channel],
            )
            for channel, points in sorted(timeline["channels"].items())
        ]
    )
    minutes = timeline["bucket_seconds"] // 60
    fig.update_layout(
        title=f"Sends over time by channel, per {minutes} min (UTC){_so_far(report)}",
        barmode="stack",
        xaxis_title="time (UTC)",
        yaxis_title="sends",
        **LAYOUT,
    )
    return fig


def funnel(report: dict[str, Any]) -> go.Figure | None:
    """Each stage's count side by side per channel (email has no delivery receipts: its
    `delivered` stays 0 and its reach is what was sent)."""
    channels = report.get("channels") or {}
    if not channels:
        return None
    colour = _colours(report)
    fig = go.Figure(
        [
            go.Bar(
                name=channel,
                x=[label for label, _ in FUNNEL],
                y=[int(line.get(key) or 0) for _, key in FUNNEL],
                texttemplate="%{y}",
                textposition="outside",
                marker_color=colour[channel],
            )
            for channel, line in sorted(channels.items())
        ]
    )
    fig.update_layout(
        title="Funnel per channel: reach → delivered → opened → clicked → converted"
        + _so_far(report),
        barmode="group",
        yaxis_title="sends",
        **LAYOUT,
    )
    return fig


def _error_bars(rates: list[float | None], intervals: list[Any]) -> dict[str, Any]:
    """Plotly's error bars are distances from the value: the interval's ends minus it."""
    pairs = list(zip(rates, intervals, strict=True))
    return dict(
        type="data",
        symmetric=False,
        array=[None if r is None or ci is None else ci[1] - r for r, ci in pairs],
        arrayminus=[None if r is None or ci is None else r - ci[0] for r, ci in pairs],
    )


def lift(report: dict[str, Any]) -> go.Figure:
    """Conversion rates of the treated and the holdout with their 95 % intervals, and the
    relative lift with its interval (empty when a group has no buyer)."""
    g = report["groups"]
    rates = [g["treated_rate"], g["holdout_rate"]]
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.6, 0.4],
        subplot_titles=("conversion rate (95 % CI)", "lift against the holdout (95 % CI)"),
    )
    fig.add_trace(
        go.Bar(
            name="conversion rate",
            x=[f"treated ({g['treated']})", f"holdout ({g['holdout']})"],
            y=rates,
            error_y=_error_bars(rates, [g.get("treated_ci"), g.get("holdout_ci")]),
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            name="lift",
            x=["lift"],
            y=[g["lift"]],
            mode="markers",
            marker=dict(size=14),
            error_y=_error_bars([g["lift"]], [g.get("lift_ci")]),
        ),
        row=1,
        col=2,
    )
    fig.update_yaxes(tickformat=".1%")
    fig.update_layout(
        title="Lift against the holdout" + _so_far(report), showlegend=False, **LAYOUT
    )
    return fig


def spend(report: dict[str, Any]) -> go.Figure:
    """The budget beside what was spent, stacked by channel and broadcast line."""
    colour = _colours(report)
    fig = go.Figure(
        [
            go.Bar(
                name="budget",
                x=["budget"],
                y=[float(report["budget_limit"])],
                text=[report["budget_limit"]],
                marker_color=BUDGET_GREY,
            )
        ]
    )
    for channel, line in sorted((report.get("channels") or {}).items()):
        fig.add_trace(
            go.Bar(
                name=channel,
                x=["spent"],
                y=[float(line["cost"])],
                text=[line["cost"]],
                marker_color=colour[channel],
            )
        )
    for b in report.get("broadcast") or []:
        fig.add_trace(
            go.Bar(
                name=scrub(f"{b['line']} ({b['channel']})"),
                x=["spent"],
                y=[float(b["actual_cost"])],
                text=[b["actual_cost"]],
            )
        )
    fig.update_layout(
        title="Spend against budget" + _so_far(report),
        barmode="stack",
        yaxis_title="cost",
        **LAYOUT,
    )
    return fig


def kpis(report: dict[str, Any]) -> go.Figure | None:
    """One panel per KPI (their scales differ: a rate against an ROI), target beside actual."""
    items = list((report.get("kpi") or {}).items())
    if not items:
        return None
    actual = "actual" if is_final(report) else "actual so far"
    fig = make_subplots(
        rows=1, cols=len(items), subplot_titles=[KPI_NAMES.get(name, name) for name, _ in items]
    )
    for col, (name, k) in enumerate(items, start=1):
        fig.add_trace(
            go.Bar(
                name=name,
                x=["target", actual],
                y=[k["target"], k["actual"]],
                texttemplate="%{y:.3~g}",
                marker_color=[BUDGET_GREY, PALETTE[0]],
            ),
            row=1,
            col=col,
        )
    fig.update_layout(
        title="KPI targets against actuals" + _so_far(report), showlegend=False, **LAYOUT
    )
    return fig


def figures(report: dict[str, Any]) -> dict[str, go.Figure]:
    """Every chart the report has data for, by a stable id (the page's element ids)."""
    made = {
        "sends": sends_over_time(report),
        "funnel": funnel(report),
        "lift": lift(report),
        "spend": spend(report),
        "kpi": kpis(report),
    }
    return {key: fig for key, fig in made.items() if fig is not None}
