"""Per-channel provider limits shared by every campaign in a worker process.

`OMNIREACH_RATE_LIMITS="sms=200/s:20,email=50/s:8"`: messages per second and concurrent
requests per channel. Channels not listed are unlimited.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

_SPEC = re.compile(r"^(?P<ch>[a-z_]+)=(?P<rate>\d+(?:\.\d+)?)/s(?::(?P<conc>\d+))?$")


class RateLimiter:
    """A token bucket (rate per second, burst of one second) plus a concurrency gate."""

    def __init__(self, rate: float, concurrency: int) -> None:
        self.rate = rate
        self._tokens = rate
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()
        self._gate = asyncio.Semaphore(concurrency)

    async def _take(self, n: int) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self._tokens = min(self.rate, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= min(n, self.rate):
                    self._tokens -= n
                    return
                await asyncio.sleep((min(n, self.rate) - self._tokens) / self.rate)

    @asynccontextmanager
    async def slot(self, n: int) -> AsyncIterator[None]:
        """Wait until `n` messages may go out, holding one of the concurrent request slots."""
        await self._take(n)
        async with self._gate:
            yield


def parse_limits(text: str) -> dict[str, RateLimiter]:
    limits: dict[str, RateLimiter] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = _SPEC.match(part)
        if not m:
            raise ValueError(f"OMNIREACH_RATE_LIMITS: cannot read {part!r} (want channel=N/s[:C])")
        limits[m["ch"]] = RateLimiter(float(m["rate"]), int(m["conc"] or 16))
    return limits
