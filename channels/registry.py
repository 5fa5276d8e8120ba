"""Which adapter serves which channel, from configuration.

`OMNIREACH_CHANNEL_PROVIDERS` maps channels to providers, e.g. `sms=aliyun,email=smtp`.
Channels not listed go to the sandbox outbox, which is the embedded default for demos and
development; production configures every channel it uses.
"""

from __future__ import annotations

import os
from typing import get_args

from sqlalchemy import Engine

from channels.base import Channel
from channels.providers import build
from channels.sandbox import SandboxChannel
from models.audience import ChannelName

ADDRESSABLE: tuple[str, ...] = get_args(ChannelName)


def parse_providers(text: str) -> dict[str, str]:
    pairs = [p.strip() for p in text.split(",") if p.strip()]
    out: dict[str, str] = {}
    for pair in pairs:
        channel, sep, provider = pair.partition("=")
        if not sep or channel not in ADDRESSABLE:
            raise ValueError(f"OMNIREACH_CHANNEL_PROVIDERS: bad entry {pair!r}")
        out[channel] = provider
    return out


def build_channels(engine: Engine, providers: dict[str, str] | None = None) -> dict[str, Channel]:
    if providers is None:
        providers = parse_providers(os.environ.get("OMNIREACH_CHANNEL_PROVIDERS", ""))
    channels: dict[str, Channel] = {}
    for name in ADDRESSABLE:
        provider = providers.get(name, "sandbox")
        channels[name] = (
            SandboxChannel(engine, name) if provider == "sandbox" else build(provider, name)
        )
    return channels
