"""Per-channel provider limits: messages per second and concurrent requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from channels.base import OutboundMessage, Outcome, SendResult
from sending.deliver import deliver
from sending.rate_limit import RateLimiter, parse_limits


class SlowProvider:
    name = "sms"

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0
        self.sent = 0

    async def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        self.active += 1
        self.peak = max(self.peak, self.active)
        await asyncio.sleep(0.05)
        self.active -= 1
        self.sent += len(messages)
        return [SendResult(m.idempotency_key, Outcome.SENT) for m in messages]


def messages(n: int) -> list[OutboundMessage]:
    return [OutboundMessage(f"k{i}", "c", i, "sms", "13800138000", "t", "body") for i in range(n)]


async def test_rate_and_concurrency_are_respected() -> None:
    provider = SlowProvider()
    limiter = RateLimiter(rate=200, concurrency=2)
    started = time.monotonic()
    results = await deliver(provider, limiter, messages(600))
    elapsed = time.monotonic() - started
    assert len(results) == 600 and provider.sent == 600
    assert elapsed >= 1.9  # 200 free as a burst, then 400 more at 200/s
    assert provider.peak <= 2


async def test_a_crashing_adapter_call_is_retryable_not_lost() -> None:
    class Broken:
        name = "sms"

        async def send_batch(self, batch: Sequence[OutboundMessage]) -> list[SendResult]:
            raise ConnectionResetError("peer reset")

    results = await deliver(Broken(), None, messages(3))
    assert [r.outcome for r in results] == [Outcome.RETRYABLE] * 3
    assert {r.error_code for r in results} == {"adapter_error"}


def test_limits_are_read_from_configuration() -> None:
    limits = parse_limits("sms=200/s:20, email=50/s")
    assert limits["sms"].rate == 200 and limits["email"].rate == 50
    with pytest.raises(ValueError, match="sms=fast"):
        parse_limits("sms=fast")
