"""The report as one self-contained HTML page: plotly.js inline, each chart's figure as a JSON
block the page draws from, and a Content-Security-Policy that forbids every network request,
so the page opens the same offline, from a mail attachment or an archive.

Campaign text reaches the page in two ways only: HTML-escaped in the header, and inside the
figures' JSON, which plotly writes with `<`, `>` and `/` escaped (no `</script>` can end the
block). Phone numbers and e-mail addresses in that text are masked; the report itself holds
counts only, never a customer."""

from __future__ import annotations

from html import escape
from typing import Any

from plotly.offline import get_plotlyjs

from content.neutralize import printable
from privacy.masking import scrub
from reporting import journey_table as jt
from reporting.charts import figures
from reporting.so_far import is_final, standing

CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:"
)
STYLE = """body{font-family:system-ui,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;
margin:24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 6px}.standing{font-size:15px;margin:0 0 4px}
.final{color:#1b5e20}.so-far{color:#8a5a00}.totals{color:#555;margin:0 0 16px}
.chart{width:100%;height:420px;margin:0 0 18px}
table{border-collapse:collapse;margin:0 0 18px;font-size:13px}
caption{text-align:left;font-weight:600;padding:0 0 4px}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}th:first-child,td:first-child{text-align:left}
.winner,.note{margin:-10px 0 18px}"""
DRAW = """for (const block of document.querySelectorAll('script[type="application/json"]')) {
  const fig = JSON.parse(block.textContent);
  Plotly.newPlot(block.id.replace('figure-', 'chart-'), fig.data, fig.layout,
                 {displaylogo: false, responsive: true});
}"""


def text(value: object) -> str:
    """Campaign text for the page: PII masked, control codes visible, HTML escaped."""
    return escape(scrub(printable(str(value))))


def html_table(table: jt.Table, caption: str) -> str:
    header, rows = table
    head = "".join(f"<th>{text(cell)}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{text(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><caption>{text(caption)}</caption><tr>{head}</tr>{body}</table>"


def journey_section(report: dict[str, Any]) -> str:
    """A journey's steps and A/B tests as tables ('' for a one-step campaign)."""
    if not report.get("journey"):
        return ""
    parts = [html_table(jt.step_table(report["journey"]), "Journey steps")]
    parts += [
        f'<p class="note">{text(line)}</p>' for line in jt.suppressed_lines(report["journey"])
    ]
    for step in jt.tested_steps(report):
        parts.append(html_table(jt.variant_table(step), f"Step {step['id']}: variants"))
        parts.append(
            html_table(jt.comparison_table(step), f"Step {step['id']}: against the control")
        )
        winner = jt.winner_line(step)
        if winner:
            parts.append(f'<p class="winner">{text(winner)}</p>')
    return "\n".join(parts)


def render_page(report: dict[str, Any]) -> str:
    """The whole page for one report (stored review or live "so far")."""
    final = is_final(report)
    total = report["total"]
    charts = "\n".join(
        f'<div class="chart" id="chart-{key}"></div>\n'
        f'<script type="application/json" id="figure-{key}">{fig.to_json()}</script>'
        for key, fig in figures(report).items()
    )
    title = f"Review · {text(report['name'])}"
    return f"""<!doctype html>
<html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>{title}</title><style>{STYLE}</style>
<script>{get_plotlyjs()}</script>
</head><body>
<h1>{title}</h1>
<p class="standing {"final" if final else "so-far"}">{text(report["campaign_id"])} ·
{text(report["objective"])} · phase {text(report["phase"])} · {text(standing(report))}</p>
<p class="totals">sent {total["sent"]} · conversions {total["conversions"]} · revenue
{text(total["revenue"])} · cost {text(total["cost"])} of budget {text(report["budget_limit"])}
</p>
{journey_section(report)}
{charts}
<script>{DRAW}</script>
</body></html>
"""
