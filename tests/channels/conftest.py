"""Shared fixtures: each test module defines `emu` (its emulator); `url` serves it once per
module and every test starts with the emulator's records and faults cleared."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator

import pytest

from channels.base import Channel, OutboundMessage, Outcome, SendResult
from emulators.base import Emulator
from emulators.server import serve

_keys = itertools.count(1)

FAST_TIMEOUT = 0.5  # adapters' HTTP timeout in tests: generous for a busy machine
STALL = 1.0  # an emulator stall longer than that


def message(
    address: str,
    template: str = "T1",
    *,
    params: dict[str, str] | None = None,
    key: str | None = None,
    body: str = "双十一会员专享：全场8折",
    channel: str = "test",
    subject: str | None = None,
) -> OutboundMessage:
    return OutboundMessage(
        idempotency_key=key or f"cmp-1:{next(_keys)}",
        campaign_id="cmp-1",
        customer_id=42,
        channel=channel,
        address=address,
        template=template,
        body=body,
        subject=subject,
        params=params or {},
    )


@pytest.fixture(scope="module")
def url(emu: Emulator) -> Iterator[str]:
    with serve(emu.app) as base:
        yield base


@pytest.fixture(autouse=True)
def _fresh_emulator(request: pytest.FixtureRequest) -> None:
    if "emu" in request.fixturenames:
        request.getfixturevalue("emu").reset()


async def settle(emu: Emulator, answered: int, timeout: float = 5.0) -> None:
    """Wait until the emulator has answered `answered` requests (a stalled one answers late)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while len(emu.traffic) < answered:
        assert asyncio.get_running_loop().time() < deadline, "emulator did not answer in time"
        await asyncio.sleep(0.02)


async def assert_transport_faults(
    emu: Emulator, channel: Channel, make: Callable[[], OutboundMessage], *, idempotent: bool
) -> None:
    """429 → rate_limited with Retry-After, 5xx → retryable, timeout → retryable; for providers
    that dedupe, a retry after a lost answer is delivered once."""

    async def send(m: OutboundMessage) -> SendResult:
        [answer] = await channel.send_batch([m])
        return answer

    assert (await send(make())).outcome is Outcome.SENT  # warm-up: tokens, cid pools
    emu.faults.rate_limit(retry_after=7)
    limited = await send(make())
    assert (limited.outcome, limited.retry_after) == (Outcome.RATE_LIMITED, 7.0)
    emu.faults.fail(status=503)
    assert (await send(make())).outcome is Outcome.RETRYABLE
    delivered = len(emu.deliveries)
    answered = len(emu.traffic)
    emu.faults.stall(seconds=STALL)
    lost = make()
    timed_out = await send(lost)
    assert (timed_out.outcome, timed_out.error_code) == (Outcome.RETRYABLE, "timeout")
    assert (await send(lost)).outcome is Outcome.SENT
    await settle(emu, answered + 2)
    if idempotent:
        assert len(emu.deliveries) == delivered + 1
