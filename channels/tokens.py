"""Short-lived access tokens (WeChat, WeCom, Google OAuth) shared by all sends of one adapter.

Providers cap how often a token may be fetched (WeChat: 2,000 a day), so it is cached until
shortly before it expires and refreshed only when it runs out or the provider says it is no
longer valid. A failed fetch is remembered for a few seconds: with a wrong secret a batch fails
on one request instead of asking again for every message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from channels.base import Outcome
from channels.http import (
    ProviderError,
    json_object,
    raise_for_status_outcome,
    transport_failure,
)

WX_STALE_TOKEN = {40001, 40014, 42001}
TokenFetcher = Callable[[], Awaitable[tuple[str, float]]]  # → (token, lifetime in seconds)


class CachedToken:
    """One token, fetched on demand under a lock so concurrent sends trigger one fetch."""

    def __init__(
        self,
        fetch: TokenFetcher,
        *,
        margin: float = 300.0,
        failure_ttl: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._margin = margin
        self._failure_ttl = failure_ttl
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._failure: ProviderError | None = None
        self._failed_until = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> str:
        async with self._lock:
            if self._token is not None and self._clock() < self._expires_at:
                return self._token
            failure = self._failure
            if failure is not None and self._clock() < self._failed_until:
                raise ProviderError(
                    failure.outcome,
                    failure.error_code,
                    failure.detail,
                    retry_after=failure.retry_after,
                )
            token, lifetime = await self._fetch_or_remember_failure()
            self._token = token
            self._expires_at = self._clock() + lifetime - min(self._margin, lifetime / 2)
            return token

    async def _fetch_or_remember_failure(self) -> tuple[str, float]:
        try:
            fetched = await self._fetch()
        except httpx.TransportError as exc:
            self._failure = transport_failure(exc, "token_")
        except ProviderError as exc:
            self._failure = exc
        else:
            self._failure = None
            return fetched
        self._failed_until = self._clock() + self._failure_ttl
        raise self._failure

    def invalidate(self, stale: str) -> None:
        """Forget `stale`, unless a concurrent send already replaced it with a fresh one."""
        if self._token == stale:
            self._token = None


async def call_with_token(
    token: CachedToken,
    call: Callable[[str], Awaitable[httpx.Response]],
    is_stale: Callable[[httpx.Response], bool],
) -> httpx.Response:
    """Make the call; if the provider rejects the token as invalid or expired, refresh it and
    retry exactly once."""
    current = await token.get()
    response = await call(current)
    if is_stale(response):
        token.invalidate(current)
        response = await call(await token.get())
    return response


def token_from_response(response: httpx.Response) -> tuple[str, float]:
    """(token, lifetime) from a token endpoint's answer, in WeChat/WeCom style
    (`errcode`/`errmsg`) or OAuth2 style (`error`/`error_description`)."""
    raise_for_status_outcome(response, "token_")
    body = json_object(response)
    token = body.get("access_token")
    if token:
        return str(token), float(body.get("expires_in", 7200))
    code = str(body.get("errcode") or body.get("error") or f"http_{response.status_code}")
    outcome = Outcome.RETRYABLE if code == "-1" else Outcome.PERMANENT
    detail = body.get("errmsg") or body.get("error_description")
    raise ProviderError(outcome, f"token_{code}", str(detail) if detail else None)


def wx_token_is_stale(response: httpx.Response) -> bool:
    """WeChat and WeCom: invalid credential (40001), invalid token (40014), expired (42001)."""
    return json_object(response).get("errcode") in WX_STALE_TOKEN
