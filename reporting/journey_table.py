"""The journey part of a report as rows of text, the same for the terminal and the HTML page:
one table of steps, one of variants per A/B-tested step, and the winner's line."""

from __future__ import annotations

from typing import Any

Table = tuple[list[str], list[list[str]]]
COUNTS = ("sent", "failed", "delivered", "opened", "clicked", "replied", "converted", "cost")
STEP_HEADER = ["step", "kind", "entered", *COUNTS[:1], "suppressed", *COUNTS[1:], "went to"]
VARIANT_HEADER = [
    "variant",
    "entered",
    "sent",
    "clicked",
    "click rate",
    "click vs control (95 % CI)",
    "converted",
    "conversion rate",
    "conversion vs control (95 % CI)",
    "cost",
]


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _pp(value: float) -> str:
    return f"{value * 100:+.1f}"


def versus(cmp: dict[str, Any] | None) -> str:
    """'+5.0 pp (+0.4 to +9.6), p 0.033, significant'; 'n/a' when a group sent nothing."""
    if cmp is None:
        return "n/a"
    lo, hi = cmp["ci"]
    p = "p n/a" if cmp["p"] is None else f"p {cmp['p']:.3f}"
    verdict = "significant" if cmp["significant"] else "not significant"
    return f"{_pp(cmp['difference'])} pp ({_pp(lo)} to {_pp(hi)}), {p}, {verdict}"


def _suppressed(step: dict[str, Any]) -> str:
    why = ", ".join(f"{k} {v}" for k, v in sorted(step["suppressed_by"].items()))
    return f"{step['suppressed']} ({why})" if why else str(step["suppressed"])


def step_table(journey: dict[str, Any]) -> Table:
    rows = []
    for step in journey["steps"]:
        went = ", ".join(f"{t} {n}" for t, n in (step.get("went_to") or {}).items())
        if step["kind"] == "send":
            counts = [str(step[k]) for k in COUNTS]
            rows.append(
                [step["id"], step["kind"], str(step["entered"]), counts[0], _suppressed(step)]
                + counts[1:]
                + [went]
            )
        else:
            blank = [""] * (len(COUNTS) + 1)
            rows.append([step["id"], step["kind"], str(step["entered"]), *blank, went])
    return STEP_HEADER, rows


def variant_table(step: dict[str, Any]) -> Table:
    """Each variant of one send step; the first is the control the others are compared to."""
    rows = []
    for n, v in enumerate(step["variants"]):
        cmp = v["vs_control"] or {}
        rows.append(
            [
                v["id"] + (" (control)" if n == 0 else ""),
                str(v["entered"]),
                str(v["sent"]),
                str(v["clicked"]),
                _pct(v["click_rate"]),
                versus(cmp["click"]) if n else "",
                str(v["converted"]),
                _pct(v["conversion_rate"]),
                versus(cmp["conversion"]) if n else "",
                v["cost"],
            ]
        )
    return VARIANT_HEADER, rows


def winner_line(step: dict[str, Any]) -> str | None:
    w = step.get("winner")
    if not w:
        return None
    when = w["decided_at"][:16].replace("T", " ")
    return f"winner of step {step['id']}: {w['variant']} on {w['metric']} (decided {when} UTC)"


def tested_steps(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The journey's send steps with an A/B test."""
    return [s for s in (report.get("journey") or {}).get("steps", []) if s.get("variants")]
