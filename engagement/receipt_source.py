"""Receipts by pull from the configured SMS provider: one place decides whether a pull is
possible, for the operator's `pull-receipts` and the scheduled pull alike."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from channels.config import ChannelConfigError
from channels.configured import ENV, real_provider
from channels.providers import build
from channels.sms_aliyun import AliyunSmsChannel
from channels.sms_tencent import TencentSmsChannel
from engagement.receipt_pull import LOOKBACK, PullResult, pull_aliyun, pull_tencent

PULLABLE = ("aliyun", "tencent")


class NotPullable(Exception):
    """The configuration names no provider receipts can be pulled from; says why."""


def pull_provider() -> str:
    """The SMS provider to pull from, or NotPullable naming the setting in the way."""
    provider = real_provider("sms")
    if provider not in PULLABLE:
        shown = provider or "the sandbox"
        raise NotPullable(
            f"{ENV}: sms goes to {shown}; receipts can be pulled from sms=aliyun or sms=tencent"
        )
    return provider


async def pull_configured(engine: Engine, lookback: timedelta = LOOKBACK) -> PullResult:
    """Pull receipts from the configured SMS provider (Alibaba: sends of the last `lookback`)."""
    provider = pull_provider()
    try:
        channel = build(provider, "sms")
    except ChannelConfigError as exc:
        raise NotPullable(f"sms={provider}: {exc}") from None
    if isinstance(channel, AliyunSmsChannel):
        async with channel:
            return await pull_aliyun(engine, channel, lookback=lookback)
    assert isinstance(channel, TencentSmsChannel)
    async with channel:
        return await pull_tencent(engine, channel)
