"""Whether a report is final or "so far", in one sentence the CLI and the HTML page share.

A report before the review is a snapshot of a campaign that is still sending or whose
conversions are still coming in: its KPIs are pending, never "missed"."""

from __future__ import annotations

from typing import Any

from models.contracts import TERMINAL, Phase

ENDED = {phase.value for phase in TERMINAL - {Phase.COMPLETED}}


def duration_text(seconds: int) -> str:
    """604800 → '7d', 5400 → '1h 30m', 45 → '45s'."""
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts) or "0s"


def is_final(report: dict[str, Any]) -> bool:
    """Reports stored before the `final` flag existed were all the final review."""
    return bool(report.get("final", True))


def ended_unreviewed(report: dict[str, Any]) -> bool:
    """Cancelled, failed, rejected …: the campaign ended and no review will come."""
    return not is_final(report) and report["phase"] in ENDED


def standing(report: dict[str, Any]) -> str:
    """'final review …' or 'so far …' with when the attribution window closes."""
    attribution = report.get("attribution") or {}
    window = duration_text(int(attribution.get("window_seconds") or 0))
    if is_final(report):
        return f"final review, after the {window} attribution window"
    if ended_unreviewed(report):
        return (
            f"the campaign ended {report['phase']} before its review: numbers as of "
            f"{report['generated_at'][:16].replace('T', ' ')} UTC, KPIs not judged"
        )
    closes = attribution.get("closes_at")
    when = f"closes {closes[:16].replace('T', ' ')} UTC" if closes else "starts at the first send"
    return (
        f"so far, as of {report['generated_at'][:16].replace('T', ' ')} UTC: the campaign is "
        f"{report['phase']}; KPIs are pending until the final review after the {window} "
        f"attribution window ({when})"
    )
