"""Plumbing every HTTP adapter shares: a pooled client, bounded fan-out, and the outcomes that do
not depend on the provider (429, 5xx, timeouts, broken connections)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, Protocol, Self, TypeVar

import httpx

from channels.base import OutboundMessage, Outcome, SendResult
from privacy.masking import scrub

log = logging.getLogger(__name__)
_QUERY_SECRET = re.compile(r"((?:access_token|secret|corpsecret)=)[^&\s]+", re.IGNORECASE)

T = TypeVar("T")
R = TypeVar("R")

_DETAIL_LIMIT = 300


class _RedactUrlSecrets(logging.Filter):
    """httpx logs every request URL at INFO, and WeChat and WeCom take their app secret and
    access token in the query string: mask those values before the line is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _QUERY_SECRET.sub(r"\1***", str(arg)) if isinstance(arg, httpx.URL | str) else arg
                for arg in record.args
            )
        return True


logging.getLogger("httpx").addFilter(_RedactUrlSecrets())


class ProviderError(Exception):
    """A failure before the message itself was sent (token or id fetch), already classified."""

    def __init__(
        self,
        outcome: Outcome,
        error_code: str,
        detail: str | None = None,
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{error_code}: {detail or ''}")
        self.outcome = outcome
        self.error_code = error_code
        self.detail = detail
        self.retry_after = retry_after


def transport_failure(exc: httpx.TransportError, prefix: str = "") -> ProviderError:
    """A request that got no answer (timeout, refused or dropped connection): retryable."""
    code = "timeout" if isinstance(exc, httpx.TimeoutException) else "connection"
    return ProviderError(Outcome.RETRYABLE, prefix + code, type(exc).__name__)


def result(
    message: OutboundMessage,
    outcome: Outcome,
    *,
    provider_message_id: str | None = None,
    error_code: str | None = None,
    detail: str | None = None,
    retry_after: float | None = None,
) -> SendResult:
    """A SendResult whose free-text detail has phone numbers and emails masked (providers echo
    them in error messages, and results end up in logs and the database)."""
    return SendResult(
        idempotency_key=message.idempotency_key,
        outcome=outcome,
        provider_message_id=provider_message_id,
        error_code=error_code,
        detail=scrub(detail)[:_DETAIL_LIMIT] if detail else None,
        retry_after=retry_after,
    )


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After in seconds, given as delta-seconds or as an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def status_outcome(response: httpx.Response) -> tuple[Outcome, str, float | None] | None:
    """(outcome, error code, retry after) when the HTTP status alone decides:
    429 → rate limited, 408/5xx → retryable."""
    status = response.status_code
    if status == 429:
        return (
            Outcome.RATE_LIMITED,
            "http_429",
            parse_retry_after(response.headers.get("Retry-After")),
        )
    if status == 408 or status >= 500:
        return Outcome.RETRYABLE, f"http_{status}", None
    return None


def status_failure(message: OutboundMessage, response: httpx.Response) -> SendResult | None:
    """`status_outcome` as the message's result."""
    found = status_outcome(response)
    if found is None:
        return None
    outcome, code, retry_after = found
    return result(message, outcome, error_code=code, retry_after=retry_after)


def raise_for_status_outcome(response: httpx.Response, prefix: str = "") -> None:
    """`status_outcome` as a `ProviderError`, for calls that precede the send itself."""
    found = status_outcome(response)
    if found is not None:
        outcome, code, retry_after = found
        raise ProviderError(outcome, prefix + code, retry_after=retry_after)


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The body as a JSON object; anything else (a proxy's HTML error page) as an empty one."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


async def bounded_map(items: Sequence[T], fn: Callable[[T], Awaitable[R]], limit: int) -> list[R]:
    """`fn` over `items` with at most `limit` calls in flight; results in input order."""
    semaphore = asyncio.Semaphore(max(1, limit))

    async def run(item: T) -> R:
        async with semaphore:
            return await fn(item)

    return list(await asyncio.gather(*(run(item) for item in items)))


class HttpChannel:
    """Base for HTTP adapters: by default one request per message, `concurrency` at a time."""

    name: str

    def __init__(
        self, *, timeout: float, concurrency: int, client: httpx.AsyncClient | None = None
    ) -> None:
        self.client = client or httpx.AsyncClient(timeout=timeout)
        self._owns_client = client is None
        self.concurrency = concurrency

    async def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        return await bounded_map(messages, self._send_guarded, self.concurrency)

    async def send_one(self, message: OutboundMessage) -> SendResult:
        raise NotImplementedError

    async def _send_guarded(self, message: OutboundMessage) -> SendResult:
        async def call() -> list[SendResult]:
            return [await self.send_one(message)]

        return (await self.guard([message], call))[0]

    async def guard(
        self, messages: Sequence[OutboundMessage], call: Callable[[], Awaitable[list[SendResult]]]
    ) -> list[SendResult]:
        """Run one provider call for `messages`; failures that never got an answer become
        results for all of them instead of exceptions."""
        try:
            return await call()
        except ProviderError as exc:
            error = exc
        except httpx.TransportError as exc:
            error = transport_failure(exc)
        log.warning("%s: %s for %d message(s)", self.name, error.error_code, len(messages))
        return [
            result(
                m,
                error.outcome,
                error_code=error.error_code,
                detail=error.detail,
                retry_after=error.retry_after,
            )
            for m in messages
        ]

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class HttpSettings(Protocol):
    """What `SettingsChannel` needs from an adapter's settings dataclass."""

    @property
    def timeout(self) -> float: ...

    @property
    def concurrency(self) -> int: ...


S = TypeVar("S", bound=HttpSettings)


class SettingsChannel(HttpChannel, Generic[S]):
    """An HTTP adapter built from its settings; `name` defaults to the class attribute."""

    def __init__(
        self, settings: S, *, name: str | None = None, client: httpx.AsyncClient | None = None
    ) -> None:
        super().__init__(timeout=settings.timeout, concurrency=settings.concurrency, client=client)
        self.settings = settings
        if name is not None:
            self.name = name
