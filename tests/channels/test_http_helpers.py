from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from channels.base import Outcome
from channels.http import ProviderError, bounded_map, parse_retry_after, result
from channels.tokens import CachedToken
from channels.webhook import WebhookChannel, WebhookSettings
from emulators.server import free_port
from tests.channels.conftest import FAST_TIMEOUT, message


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        (None, None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
    ],
)
def test_retry_after_accepts_seconds_and_http_dates(
    value: str | None, seconds: float | None
) -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert parse_retry_after(value, now) == seconds


async def test_bounded_map_keeps_order_and_limits_concurrency() -> None:
    running = peak = 0

    async def work(n: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01 * (n % 3))
        running -= 1
        return n * n

    assert await bounded_map(list(range(20)), work, 4) == [n * n for n in range(20)]
    assert peak == 4


def test_result_details_are_scrubbed_of_phone_numbers() -> None:
    answer = result(
        message("13800138000"), Outcome.PERMANENT, detail="phone 13800138000 is invalid"
    )
    assert answer.detail == "phone 138****8000 is invalid"


async def test_connection_refused_is_retryable() -> None:
    settings = WebhookSettings(
        url=f"http://127.0.0.1:{free_port()}/", secret="s", timeout=FAST_TIMEOUT
    )
    async with WebhookChannel(settings) as ch:
        [answer] = await ch.send_batch([message("crm-1")])
    assert (answer.outcome, answer.error_code) == (Outcome.RETRYABLE, "connection")


async def test_cached_token_is_fetched_once_and_renewed_before_expiry() -> None:
    now = [0.0]
    fetched: list[str] = []

    async def fetch() -> tuple[str, float]:
        fetched.append(f"t{len(fetched)}")
        return fetched[-1], 7200.0

    token = CachedToken(fetch, margin=300, clock=lambda: now[0])
    assert await asyncio.gather(token.get(), token.get(), token.get()) == ["t0"] * 3
    now[0] = 6899.0
    assert await token.get() == "t0"
    now[0] = 6900.0
    assert await token.get() == "t1"
    token.invalidate("t0")  # a stale token another send already replaced: keep the new one
    assert await token.get() == "t1"
    token.invalidate("t1")
    assert await token.get() == "t2"


async def test_a_failed_token_fetch_is_remembered_briefly() -> None:
    now = [0.0]
    calls = 0

    async def fetch() -> tuple[str, float]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ProviderError(Outcome.PERMANENT, "token_40125", "invalid appsecret")
        raise httpx.ConnectTimeout("slow")

    token = CachedToken(fetch, failure_ttl=10, clock=lambda: now[0])
    for _ in range(3):
        with pytest.raises(ProviderError, match="token_40125"):
            await token.get()
    assert calls == 1
    now[0] = 10.0
    with pytest.raises(ProviderError) as caught:
        await token.get()
    assert (caught.value.outcome, caught.value.error_code) == (Outcome.RETRYABLE, "token_timeout")
