"""CN-08: our own frequency caps, not a provider's per-number flow control, decide how often a
customer is contacted. A provider limit that our caps could reach would act as the
anti-disturbance control (and turn sends into provider errors), so such a configuration is
refused when the worker starts and reported by the compliance check.

The caps (`config/caps.yaml`) count calendar days and weeks in the customer's zone; a
provider counts a rolling window. A rolling window of length w can touch ceil(w / P) + 1
calendar periods of length P, so a cap of N per P lets at most N · (ceil(w / P) + 1) through.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from channels.configured import configured_providers
from compliance.config import ComplianceConfig, load_config
from policy.frequency_cap import CapRules, load_caps

Window = Literal["minute", "hour", "day"]
WINDOWS: dict[Window, timedelta] = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}
DAY, WEEK = timedelta(days=1), timedelta(days=7)

# channel → provider → window → most messages one number may get in that rolling window
ProviderLimits = dict[str, dict[str, dict[Window, int]]]


class LimitParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    provider_limits: dict[str, dict[str, dict[Window, int]]] = Field(default_factory=dict)


@dataclass(frozen=True)
class Overrun:
    """A cap that can let more through than a provider's per-number limit allows."""

    channel: str
    provider: str
    window: Window
    limit: int
    reachable: int | None  # None: no cap bounds it at all
    cap: str

    def describe(self) -> str:
        most = "no cap bounds" if self.reachable is None else f"up to {self.reachable}"
        return (
            f"{self.cap} lets {most} {self.channel} messages reach one number in a rolling "
            f"{self.window}; provider {self.provider} allows {self.limit} per number per "
            f"{self.window}, so its limit, not ours, would stop them (CN-08): lower the cap"
        )


def _caps(caps: CapRules, channel: str) -> list[tuple[str, int, timedelta]]:
    found = [
        ("per_day_total", caps.per_day_total, DAY),
        ("per_week_total", caps.per_week_total, WEEK),
        (f"per_week_by_channel.{channel}", caps.per_week_by_channel.get(channel), WEEK),
    ]
    return [(name, n, period) for name, n, period in found if n is not None]


def _most(caps: CapRules, channel: str, window: timedelta) -> tuple[str, int | None]:
    """The tightest cap for a rolling window: (its name, most it lets through)."""
    bounds = [
        (n * (math.ceil(window / period) + 1), name) for name, n, period in _caps(caps, channel)
    ]
    if not bounds:
        return "caps.yaml (no per_day_total, per_week_total or per-channel cap)", None
    most, name = min(bounds)
    return f"caps.yaml {name}", most


def overruns(caps: CapRules, providers: dict[str, str], limits: ProviderLimits) -> list[Overrun]:
    """Every configured provider limit our caps could reach (channel → provider as deployed)."""
    out = []
    for channel, provider in sorted(providers.items()):
        for window, limit in sorted(limits.get(channel, {}).get(provider, {}).items()):
            cap, most = _most(caps, channel, WINDOWS[window])
            if most is None or most > limit:
                out.append(Overrun(channel, provider, window, limit, most, cap))
    return out


class ProviderLimitError(ValueError):
    """A cap that lets a provider's per-number limit act as the anti-disturbance control."""


def check_provider_limits(
    config: ComplianceConfig | None = None,
    caps: CapRules | None = None,
    providers: dict[str, str] | None = None,
) -> None:
    """Raise ProviderLimitError naming each cap and provider when our caps could reach a
    configured provider's per-number limit (what the worker checks before it starts)."""
    config = config or load_config()
    if "CN-08" not in config.rules or not config.rules["CN-08"].enabled:
        return
    params: LimitParams = config.params("CN-08")
    found = overruns(
        caps or load_caps(),
        configured_providers() if providers is None else providers,
        params.provider_limits,
    )
    if found:
        raise ProviderLimitError("; ".join(o.describe() for o in found))
