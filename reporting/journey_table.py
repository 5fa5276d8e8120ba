"""The journey part of a report as rows of text, the same for the terminal and the HTML page:
one table of steps, one of variants per A/B-tested step, and the winner's line."""

from __future__ import annotations

from typing import Any

Table = tuple[list[str], list[list[str]]]
COUNTS = (
    "entered",
    "sent",
    "suppressed",
    "failed",
    "delivered",
    "opened",
    "clicked",
    "replied",
    "converted",
    "cost",
)
RATE_NAMES = {"click": "click rate", "conversion": "conversion rate"}


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _pp(value: float) -> str:
    return f"{value * 100:+.1f}"


def step_table(journey: dict[str, Any]) -> Table:
    """One row a step: a send's counts; a wait's and a branch's entered, and where the
    branch's went."""
    rows = []
    for step in journey["steps"]:
        went = ", ".join(f"{t} {n}" for t, n in (step.get("went_to") or {}).items())
        counts = [str(step.get(k, "")) for k in COUNTS]
        rows.append([step["id"], step["kind"], *counts, went])
    return ["step", "kind", *COUNTS, "went to"], rows


def suppressed_lines(journey: dict[str, Any]) -> list[str]:
    """'first suppressed: frequency_cap 4, quiet_hours 2' for each step that had any."""
    return [
        f"{step['id']} suppressed: "
        + ", ".join(f"{k} {v}" for k, v in sorted(step["suppressed_by"].items()))
        for step in journey["steps"]
        if step.get("suppressed_by")
    ]


def variant_table(step: dict[str, Any]) -> Table:
    """Each variant of one send step, with its rates per send; then the picked winner's send
    to the rest of the audience (not part of the test), if it went out."""
    named = [(v["id"], v) for v in step["variants"]]
    if step.get("rollout") and step.get("winner"):
        named.append((f"rollout ({step['winner']['variant']})", step["rollout"]))
    rows = [
        [name, *(str(v[k]) for k in COUNTS), *(_pct(v[f"{r}_rate"]) for r in RATE_NAMES)]
        for name, v in named
    ]
    return ["variant", *COUNTS, *RATE_NAMES.values()], rows


def comparison_table(step: dict[str, Any]) -> Table:
    """Each variant's rates against the first variant's (the control): the difference in
    percentage points with its 95 % interval, the test's p and whether p < 0.05."""
    control = step["variants"][0]
    rows = []
    for v in step["variants"][1:]:
        for rate, name in RATE_NAMES.items():
            cmp = v["vs_control"][rate]
            cells = ["n/a"] * 4
            if cmp is not None:
                lo, hi = cmp["ci"]
                cells = [
                    f"{_pp(cmp['difference'])} pp",
                    f"{_pp(lo)} to {_pp(hi)} pp",
                    "n/a" if cmp["p"] is None else f"{cmp['p']:.3f}",
                    "yes" if cmp["significant"] else "no",
                ]
            key = f"{rate}_rate"
            rows.append(
                [f"{v['id']} vs {control['id']}", name, _pct(control[key]), _pct(v[key]), *cells]
            )
    header = ["variants", "rate", "control", "variant", "difference", "95 % CI", "p", "p < 0.05"]
    return header, rows


def winner_line(step: dict[str, Any]) -> str | None:
    w = step.get("winner")
    if not w:
        return None
    when = w["decided_at"][:16].replace("T", " ")
    return f"winner of step {step['id']}: {w['variant']} on {w['metric']} (decided {when} UTC)"


def tested_steps(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The journey's send steps with an A/B test."""
    return [s for s in (report.get("journey") or {}).get("steps", []) if s.get("variants")]
