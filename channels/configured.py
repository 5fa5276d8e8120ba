"""Which provider the deployment configures for each channel.

`OMNIREACH_CHANNEL_PROVIDERS` maps channels to providers, e.g. `sms=aliyun,email=smtp`; channels
not listed go to the sandbox outbox. Read here once for the worker's adapters, the compliance
rules that depend on the provider, and `start`'s checks.
"""

from __future__ import annotations

from typing import get_args

from models.audience import ChannelName
from settings import settings

ENV = "OMNIREACH_CHANNEL_PROVIDERS"
SANDBOX = "sandbox"
ADDRESSABLE: tuple[str, ...] = get_args(ChannelName)


def parse_providers(text: str) -> dict[str, str]:
    pairs = [p.strip() for p in text.split(",") if p.strip()]
    out: dict[str, str] = {}
    for pair in pairs:
        channel, sep, provider = pair.partition("=")
        if not sep or channel not in ADDRESSABLE:
            raise ValueError(f"{ENV}: bad entry {pair!r}")
        out[channel] = provider
    return out


def configured_providers() -> dict[str, str]:
    """channel → provider, as configured in the environment."""
    return parse_providers(settings().channel_providers)


def real_provider(channel: str) -> str | None:
    """The configured provider of a channel, or None when it goes to the sandbox outbox."""
    provider = configured_providers().get(channel, SANDBOX)
    return None if provider == SANDBOX else provider
