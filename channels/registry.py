"""Which adapter serves which channel, from configuration.

`OMNIREACH_CHANNEL_PROVIDERS` maps channels to providers, e.g. `sms=aliyun,email=smtp`.
Channels not listed go to the sandbox outbox, which is the embedded default for demos and
development; production configures every channel it uses.
"""

from __future__ import annotations

from sqlalchemy import Engine

from channels.base import Channel
from channels.configured import ADDRESSABLE, SANDBOX, configured_providers
from channels.providers import build
from channels.sandbox import SandboxChannel


def build_channels(engine: Engine, providers: dict[str, str] | None = None) -> dict[str, Channel]:
    if providers is None:
        providers = configured_providers()
    channels: dict[str, Channel] = {}
    for name in ADDRESSABLE:
        provider = providers.get(name, SANDBOX)
        channels[name] = (
            SandboxChannel(engine, name) if provider == SANDBOX else build(provider, name)
        )
    return channels
