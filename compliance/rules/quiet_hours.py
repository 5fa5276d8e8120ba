"""Quiet hours (CN-07): configured for marketing, compatible with the provider's sending
window, and respected by the plan (CN-07.plan)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time

from pydantic import BaseModel, ConfigDict

from compliance.findings import Finding, Severity, Stage
from compliance.registry import RuleContext, rule
from compliance.sending_window import legal_window
from models.audience import ChannelName
from models.spec import QuietHours

DAY = 24 * 60


class QuietParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    strict_channels: list[ChannelName] = ["sms", "outbound_call"]
    lenient_severity: Severity = Severity.WARN
    # channel → provider (or "default") → (start, end) of the window the provider sends
    # marketing in; it always applies on top of a spec's quiet hours (compliance.sending_window)
    provider_windows: dict[str, dict[str, tuple[time, time]]] = {
        "sms": {"default": (time(8), time(20))},
        "outbound_call": {"default": (time(8), time(20))},
    }
    provider_window_severity: Severity = Severity.WARN


def _minutes(start: time, end: time) -> set[int]:
    """Minutes of the day in [start, end), wrapping midnight when end <= start."""
    a, b = start.hour * 60 + start.minute, end.hour * 60 + end.minute
    return set(range(a, b)) if a < b else set(range(a, DAY)) | set(range(0, b))


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def sendable_outside(quiet: QuietHours, window: tuple[time, time]) -> list[int]:
    """Minutes the quiet hours allow sending in that fall outside the provider's window."""
    allowed = set(range(DAY)) - _minutes(quiet.start, quiet.end)
    return sorted(allowed - _minutes(*window))


@rule(
    "CN-07",
    source="provider marketing windows (Tencent 1029: 08–22; Qiniu 08–20); MIIT call-centre notice",
    severity=Severity.BLOCK,
    stage=Stage.PLAN,
    params=QuietParams,
    title="marketing campaigns set quiet hours that fit the provider's window",
)
def quiet_hours_configured(ctx: RuleContext) -> Iterator[Finding]:
    p: QuietParams = ctx.params
    marketing = [c for c in ctx.channels if c.marketing]
    if not marketing:
        return
    quiet = ctx.spec.quiet_hours
    if quiet is None:
        strict = [c.channel for c in marketing if c.channel in p.strict_channels]
        used = ", ".join(strict or [c.channel for c in marketing])
        yield ctx.finding(
            f"no quiet hours set for a marketing campaign using {used}",
            "quiet_hours: null",
            severity=None if strict else p.lenient_severity,
        )
        return
    for plan in marketing:
        window = legal_window(plan.channel, ctx.config)
        if window is None:
            continue
        outside = sendable_outside(quiet, (window.start, window.end))
        if outside:
            yield ctx.finding(
                f"quiet hours {quiet.start:%H:%M}–{quiet.end:%H:%M} are wider than the legal "
                f"marketing window for {plan.channel}, {window}: {plan.channel} sends only "
                "inside that window",
                f"{len(outside)} minutes a day, first at {_hhmm(outside[0])}",
                channel=plan.channel,
                severity=p.provider_window_severity,
            )


@rule(
    "CN-07.plan",
    source="provider marketing windows; quiet hours (docs/lifecycle.md#planning)",
    severity=Severity.BLOCK,
    stage=Stage.PLAN,
    title="no send planned inside quiet hours",
)
def none_planned_in_quiet_hours(ctx: RuleContext) -> Iterator[Finding]:
    if ctx.plan.planned_in_quiet_hours:
        yield ctx.finding(
            "sends are planned inside the customers' quiet hours",
            f"{ctx.plan.planned_in_quiet_hours} planned sends",
        )
