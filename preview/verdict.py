"""Why a campaign would send nothing, in one line an operator can act on."""

from __future__ import annotations

from typing import Any

from models.contracts import ResearchResult
from models.spec import CampaignSpec


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(
        f"{reason} {n:,}" for reason, n in sorted(counts.items(), key=lambda kv: -kv[1])
    )


def _when(spec: CampaignSpec, windows: dict[str, str]) -> str:
    window = spec.send_window
    quiet = spec.quiet_hours
    parts = [f"quiet hours {quiet.start:%H:%M}–{quiet.end:%H:%M}"] if quiet else []
    parts += [f"the legal {channel} window {w}" for channel, w in sorted(windows.items())]
    allowed = " and ".join(parts) or "the send window"
    return (
        f"the send window {window.start.isoformat(timespec='minutes')} → "
        f"{window.end.isoformat(timespec='minutes')} has no time allowed by {allowed} "
        "in the customers' time zones"
    )


def nothing_sent(
    spec: CampaignSpec,
    found: ResearchResult,
    plan: dict[str, Any],
    skipped: dict[str, int],
    windows: dict[str, str],
) -> str:
    """The reason, for a campaign whose preview expects no send at all."""
    if not found.audience:
        return "the audience filter selects no customer"
    if not found.targeted:
        held = f"; {found.holdout:,} held out" if found.holdout else ""
        return (
            f"no one in the audience of {found.audience:,} can be reached on "
            f"{', '.join(p.channel for p in spec.channels)} "
            f"({_counts(found.excluded) or 'all held out'}{held})"
        )
    not_planned: dict[str, int] = plan.get("not_planned", {})
    if not plan.get("totals", {}).get("planned"):
        lead = (
            f"none of the {found.targeted:,} targeted customers is planned ({_counts(not_planned)})"
        )
        top = max(not_planned, key=lambda r: not_planned[r], default="")
        if top == "quiet_hours":
            return f"{lead}: {_when(spec, windows)}"
        if top == "budget":
            return f"{lead}: the budget {spec.budget.limit} {spec.budget.currency} pays for no send"
        return lead
    return f"every planned send would be refused at send time ({_counts(skipped)})"
