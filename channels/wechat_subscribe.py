"""WeChat subscribe messages: mini program (`subscribe/send`) and official account
(`subscribe/bizsend`), one adapter configured per account.

Every delivered message uses up one of the user's one-time subscriptions to that template; with
none left WeChat answers 43101, reported as opted_out with error_code "43101". The
per-(openid, template) ledger lives elsewhere: `on_quota` tells it what each send did.
`message.params` become the template data, except `page` (where a tap leads).

Each API gets only the fields it documents. The mini program's `send` takes `page` as a path in
the mini program, with `miniprogram_state` and `lang`. The official account's `bizsend` takes
`page` only as a web address; a mini program path opens the mini program whose appid is
`OMNIREACH_WECHAT_OA_MINIPROGRAM_APPID`, sent as `miniprogram: {appid, pagepath}`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from channels.base import OutboundMessage, Outcome, SendResult
from channels.config import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, Env
from channels.http import (
    SettingsChannel,
    json_object,
    result,
    status_failure,
)
from channels.tokens import CachedToken, call_with_token, token_from_response, wx_token_is_stale

DEFAULT_BASE_URL = "https://api.weixin.qq.com"
SEND_PATHS = {
    "wechat_mini": "/cgi-bin/message/subscribe/send",
    "wechat_oa": "/cgi-bin/message/subscribe/bizsend",
}
QUOTA_EXHAUSTED = 43101
_WEB_URL = re.compile(r"^https?://", re.IGNORECASE)
_RETRYABLE = {-1}
_RATE_LIMITED = {45009, 45011}  # daily API quota, per-minute API quota


@dataclass(frozen=True)
class QuotaEvent:
    """One send's effect on a (openid, template) subscription: consumed, or found exhausted."""

    openid: str
    template_id: str
    exhausted: bool


QuotaHook = Callable[[QuotaEvent], None]


class InMemoryQuotaLedger:
    """A `QuotaHook` that counts per (openid, template); for tests and the demo."""

    def __init__(self) -> None:
        self.consumed: Counter[tuple[str, str]] = Counter()
        self.exhausted: set[tuple[str, str]] = set()

    def __call__(self, event: QuotaEvent) -> None:
        key = (event.openid, event.template_id)
        if event.exhausted:
            self.exhausted.add(key)
        else:
            self.consumed[key] += 1


@dataclass(frozen=True)
class WeChatSettings:
    app_id: str
    app_secret: str = field(repr=False)
    send_path: str = SEND_PATHS["wechat_mini"]
    base_url: str = DEFAULT_BASE_URL
    miniprogram_state: str = "formal"
    lang: str = "zh_CN"
    miniprogram_appid: str | None = None  # official account: the mini program a page opens
    timeout: float = DEFAULT_TIMEOUT
    concurrency: int = DEFAULT_CONCURRENCY

    @classmethod
    def from_env(
        cls, channel: str = "wechat_mini", environ: Mapping[str, str] | None = None
    ) -> WeChatSettings:
        """Reads `OMNIREACH_WECHAT_MINI_*` or `OMNIREACH_WECHAT_OA_*`, by channel name."""
        env = Env(channel.upper(), environ)
        return cls(
            app_id=env.require("APP_ID"),
            app_secret=env.require("APP_SECRET"),
            send_path=env.get("SEND_PATH", SEND_PATHS.get(channel, SEND_PATHS["wechat_mini"])),
            base_url=env.get("BASE_URL", DEFAULT_BASE_URL),
            miniprogram_state=env.get("MINIPROGRAM_STATE", "formal"),
            miniprogram_appid=env.optional("MINIPROGRAM_APPID"),
            **env.http_limits(),
        )


def classify(errcode: int) -> Outcome:
    if errcode == QUOTA_EXHAUSTED:
        return Outcome.OPTED_OUT
    if errcode in _RATE_LIMITED:
        return Outcome.RATE_LIMITED
    if errcode in _RETRYABLE:
        return Outcome.RETRYABLE
    return Outcome.PERMANENT


class WeChatSubscribeChannel(SettingsChannel[WeChatSettings]):
    """`Channel` for WeChat subscribe messages; `address` is the user's openid."""

    name = "wechat_mini"

    def __init__(
        self,
        settings: WeChatSettings,
        *,
        name: str | None = None,
        on_quota: QuotaHook | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(settings, name=name, client=client)
        self.on_quota = on_quota
        self.token = CachedToken(self._fetch_token)

    async def _fetch_token(self) -> tuple[str, float]:
        s = self.settings
        response = await self.client.get(
            f"{s.base_url}/cgi-bin/token",
            params={
                "grant_type": "client_credential",
                "appid": s.app_id,
                "secret": s.app_secret,
            },
        )
        return token_from_response(response)

    @property
    def official_account(self) -> bool:
        return self.settings.send_path.endswith("/bizsend")

    def payload(self, message: OutboundMessage) -> dict[str, object]:
        """The request body; ValueError when an official account message links to a mini
        program but no mini program appid is configured."""
        body: dict[str, object] = {
            "touser": message.address,
            "template_id": message.template,
            "data": {k: {"value": v} for k, v in message.params.items() if k != "page"},
        }
        page = message.params.get("page")
        if not self.official_account:
            body.update(miniprogram_state=self.settings.miniprogram_state, lang=self.settings.lang)
            if page:
                body["page"] = page
        elif page and _WEB_URL.match(page):
            body["page"] = page
        elif page:
            if self.settings.miniprogram_appid is None:
                raise ValueError(
                    "the page is a mini program path but "
                    "OMNIREACH_WECHAT_OA_MINIPROGRAM_APPID is not set"
                )
            body["miniprogram"] = {"appid": self.settings.miniprogram_appid, "pagepath": page}
        return body

    async def send_one(self, message: OutboundMessage) -> SendResult:
        url = f"{self.settings.base_url}{self.settings.send_path}"
        try:
            payload = self.payload(message)
        except ValueError as exc:
            return result(
                message, Outcome.PERMANENT, error_code="missing_miniprogram_appid", detail=str(exc)
            )

        async def post(token: str) -> httpx.Response:
            return await self.client.post(url, params={"access_token": token}, json=payload)

        response = await call_with_token(self.token, post, wx_token_is_stale)
        if (failure := status_failure(message, response)) is not None:
            return failure
        body = json_object(response)
        errcode = body.get("errcode")
        if not isinstance(errcode, int):
            return result(message, Outcome.RETRYABLE, error_code="invalid_response")
        self._report_quota(message, errcode)
        if errcode == 0:
            msgid = body.get("msgid")
            return result(message, Outcome.SENT, provider_message_id=str(msgid) if msgid else None)
        return result(
            message, classify(errcode), error_code=str(errcode), detail=body.get("errmsg")
        )

    def _report_quota(self, message: OutboundMessage, errcode: int) -> None:
        if self.on_quota is not None and errcode in (0, QUOTA_EXHAUSTED):
            self.on_quota(
                QuotaEvent(message.address, message.template, exhausted=errcode == QUOTA_EXHAUSTED)
            )
