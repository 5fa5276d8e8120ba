"""JPush (极光推送) REST v3: one notification per message to its registration id, Basic auth.

Idempotency: JPush answers a push whose `cid` it has already seen with the first push's result
instead of pushing again, but it only accepts cids it issued (`GET /v3/push/cid`, valid for a
day). The adapter takes cids from an issued pool and remembers idempotency key → cid, so a
retry from this worker reuses the cid; a retry on another worker gets a fresh one.
`message.params` travel as notification extras (deep links, campaign ids).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from channels.base import OutboundMessage, Outcome, SendResult
from channels.config import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, Env
from channels.http import (
    ProviderError,
    SettingsChannel,
    json_object,
    parse_retry_after,
    raise_for_status_outcome,
    result,
    status_failure,
)

DEFAULT_BASE_URL = "https://api.jpush.cn"
CID_LIFETIME = 23 * 3600.0  # JPush keeps a cid for one day; stop reusing it a little earlier
_RETRYABLE = {1000, 1030}  # internal error, internal timeout
_RATE_LIMITED = {2002, 2005, 2008}  # API rate, send volume, broadcast frequency
_OPTED_OUT = {1011}  # no such target: the app was uninstalled or the id expired


@dataclass(frozen=True)
class JPushSettings:
    app_key: str
    master_secret: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    apns_production: bool = True
    time_to_live: int = 86_400
    cid_batch: int = 10  # cids fetched per call: at most 10, or 1,000 for VIP apps
    timeout: float = DEFAULT_TIMEOUT
    concurrency: int = DEFAULT_CONCURRENCY

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> JPushSettings:
        env = Env("JPUSH", environ)
        return cls(
            app_key=env.require("APP_KEY"),
            master_secret=env.require("MASTER_SECRET"),
            base_url=env.get("BASE_URL", DEFAULT_BASE_URL),
            apns_production=env.flag("APNS_PRODUCTION", True),
            time_to_live=env.integer("TIME_TO_LIVE", 86_400),
            cid_batch=env.integer("CID_BATCH", 10),
            **env.http_limits(),
        )


def classify(code: int) -> Outcome:
    if code in _OPTED_OUT:
        return Outcome.OPTED_OUT
    if code in _RATE_LIMITED:
        return Outcome.RATE_LIMITED
    if code in _RETRYABLE:
        return Outcome.RETRYABLE
    return Outcome.PERMANENT


def _error(body: dict[str, Any]) -> tuple[int, str | None]:
    error = body.get("error") or {}
    code = error.get("code")
    return (code if isinstance(code, int) else -1), error.get("message")


class CidBook:
    """Issued cids not used yet, and the cid each idempotency key was pushed with."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.pool: list[str] = []
        self._by_key: dict[str, tuple[str, float]] = {}

    def known(self, key: str) -> str | None:
        entry = self._by_key.get(key)
        return entry[0] if entry and self._clock() - entry[1] < CID_LIFETIME else None

    def assign(self, key: str) -> str:
        now = self._clock()
        self._by_key = {k: v for k, v in self._by_key.items() if now - v[1] < CID_LIFETIME}
        cid = self.pool.pop()
        self._by_key[key] = (cid, now)
        return cid


class JPushChannel(SettingsChannel[JPushSettings]):
    """`Channel` for app push through JPush; `address` is the device's registration id."""

    name = "app_push"

    def __init__(
        self,
        settings: JPushSettings,
        *,
        name: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(settings, name=name, client=client)
        self.cids = CidBook()
        self._cid_lock = asyncio.Lock()
        self._auth = httpx.BasicAuth(settings.app_key, settings.master_secret)

    async def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        """Reserve a cid for every message first, so a cid endpoint that fails or hangs fails
        the batch once instead of once per message."""

        async def reserve() -> list[SendResult]:
            async with self._cid_lock:
                for m in messages:
                    await self._assign_cid(m.idempotency_key)
            return []

        failed = await self.guard(messages, reserve)
        return failed or await super().send_batch(messages)

    async def _assign_cid(self, key: str) -> str:
        if (cid := self.cids.known(key)) is not None:
            return cid
        if not self.cids.pool:
            self.cids.pool = await self._fetch_cids()
        return self.cids.assign(key)

    async def cid_for(self, key: str) -> str:
        async with self._cid_lock:
            return await self._assign_cid(key)

    async def _fetch_cids(self) -> list[str]:
        response = await self.client.get(
            f"{self.settings.base_url}/v3/push/cid",
            auth=self._auth,
            params={"count": self.settings.cid_batch, "type": "push"},
        )
        raise_for_status_outcome(response, "cid_")
        cids = json_object(response).get("cidlist")
        if response.status_code == 200 and cids:
            return [str(c) for c in cids]
        code, detail = _error(json_object(response))
        raise ProviderError(classify(code), f"cid_{code}", detail)

    def payload(self, message: OutboundMessage, cid: str) -> dict[str, Any]:
        android: dict[str, Any] = {"alert": message.body, "extras": dict(message.params)}
        if message.subject:
            android["title"] = message.subject
        return {
            "cid": cid,
            "platform": "all",
            "audience": {"registration_id": [message.address]},
            "notification": {
                "alert": message.body,
                "android": android,
                "ios": {"alert": message.body, "extras": dict(message.params)},
            },
            "options": {
                "time_to_live": self.settings.time_to_live,
                "apns_production": self.settings.apns_production,
            },
        }

    async def send_one(self, message: OutboundMessage) -> SendResult:
        cid = await self.cid_for(message.idempotency_key)
        response = await self.client.post(
            f"{self.settings.base_url}/v3/push", auth=self._auth, json=self.payload(message, cid)
        )
        if (failure := status_failure(message, response)) is not None:
            if failure.outcome is Outcome.RATE_LIMITED and failure.retry_after is None:
                reset = parse_retry_after(response.headers.get("X-Rate-Limit-Reset"))
                failure = replace(failure, retry_after=reset)
            return failure
        body = json_object(response)
        if response.status_code == 200 and body.get("msg_id"):
            return result(message, Outcome.SENT, provider_message_id=str(body["msg_id"]))
        code, detail = _error(body)
        return result(message, classify(code), error_code=str(code), detail=detail)
