"""The legal sending window for marketing (CN-07): marketing SMS and calls go out only inside
their provider's window (08:00–22:00 for the big SMS providers; the strictest, 08:00–20:00, when
no provider is configured), local to each customer, whatever the spec's quiet hours say.

The window is configuration (the CN-07 rule's `provider_windows`), not spec: a spec's quiet
hours can narrow when a channel sends, never widen it. Planning, the compliance check, `preview`
and the send-time checks all ask `quiet_periods` and so agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import TYPE_CHECKING, cast

from compliance.config import ComplianceConfig, load_config
from compliance.registry import all_rules
from models.spec import CampaignSpec, QuietHours

if TYPE_CHECKING:
    from compliance.rules.quiet_hours import QuietParams

RULE = "CN-07"


@dataclass(frozen=True)
class LegalWindow:
    """When a channel may send marketing, local time; `provider` None: none configured."""

    channel: str
    start: time
    end: time
    provider: str | None

    def __str__(self) -> str:
        source = f"provider {self.provider}" if self.provider else "no provider configured"
        return f"{self.start:%H:%M}–{self.end:%H:%M} ({source})"

    @property
    def outside(self) -> QuietHours | None:
        """The hours outside the window, as a quiet period (None for an all-day window)."""
        return None if self.start == self.end else QuietHours(start=self.end, end=self.start)


def window_params(config: ComplianceConfig) -> QuietParams:
    """CN-07's parameters; its defaults when the rule is not listed (the window still holds)."""
    if RULE in config.rules:
        return cast("QuietParams", config.params(RULE))
    return cast("QuietParams", all_rules()[RULE].params())


def legal_window(channel: str, config: ComplianceConfig | None = None) -> LegalWindow | None:
    """The marketing window of a channel, or None for channels without one (email, push …)."""
    config = config or load_config()
    windows = window_params(config).provider_windows.get(channel, {})
    provider = config.named_provider(channel)
    span = windows.get(provider or "default") or windows.get("default")
    return None if span is None else LegalWindow(channel, span[0], span[1], provider)


def quiet_periods(
    spec: CampaignSpec, channel: str, config: ComplianceConfig | None = None
) -> tuple[QuietHours, ...]:
    """Every period in which `channel` may not send for this campaign: the spec's quiet hours
    and, for a marketing channel with a legal window, the hours outside it."""
    found = [spec.quiet_hours] if spec.quiet_hours is not None else []
    window = legal_window(channel, config) if spec.channel(channel).marketing else None
    if window is not None and window.outside is not None:
        found.append(window.outside)
    return tuple(found)
