"""WeCom (企业微信) one-to-one group messages through a store guide's account.

`add_msg_template` only creates a task: the guide still has to confirm it in the WeCom app, so
`sent` here means "task created". `get_groupmsg_send_result` tells later whether each customer
actually got it. Messages with the same guide and text share one task (≤ 10,000 customers); the
guide is `params["sender"]`, else the configured default. Customers WeCom cannot reach (not the
guide's friend any more) come back in `fail_list` and are reported as opted_out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import httpx

from channels.base import OutboundMessage, Outcome, SendResult
from channels.config import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, Env
from channels.http import (
    ProviderError,
    SettingsChannel,
    bounded_map,
    json_object,
    raise_for_status_outcome,
    result,
)
from channels.tokens import CachedToken, call_with_token, token_from_response, wx_token_is_stale

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com"
MAX_RECIPIENTS = 10_000
_RATE_LIMITED = {45009, 45033}  # API frequency, concurrent calls


class GroupMsgStatus(IntEnum):
    UNSENT = 0
    SENT = 1
    NOT_FRIEND = 2
    ALREADY_RECEIVED = 3  # the customer already got another group message today


@dataclass(frozen=True)
class RecipientStatus:
    external_userid: str
    status: GroupMsgStatus
    send_time: int | None


@dataclass(frozen=True)
class WeComSettings:
    corp_id: str
    secret: str = field(repr=False)
    default_sender: str | None = None
    base_url: str = DEFAULT_BASE_URL
    timeout: float = DEFAULT_TIMEOUT
    concurrency: int = DEFAULT_CONCURRENCY

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WeComSettings:
        env = Env("WECOM", environ)
        return cls(
            corp_id=env.require("CORP_ID"),
            secret=env.require("SECRET"),
            default_sender=env.optional("DEFAULT_SENDER"),
            base_url=env.get("BASE_URL", DEFAULT_BASE_URL),
            **env.http_limits(),
        )


def classify(errcode: int) -> Outcome:
    if errcode in _RATE_LIMITED:
        return Outcome.RATE_LIMITED
    if errcode == -1:
        return Outcome.RETRYABLE
    return Outcome.PERMANENT


class WeComChannel(SettingsChannel[WeComSettings]):
    """`Channel` for WeCom guide messages; `address` is the customer's external_userid."""

    name = "wecom"

    def __init__(
        self,
        settings: WeComSettings,
        *,
        name: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(settings, name=name, client=client)
        self.token = CachedToken(self._fetch_token)

    async def _fetch_token(self) -> tuple[str, float]:
        s = self.settings
        response = await self.client.get(
            f"{s.base_url}/cgi-bin/gettoken", params={"corpid": s.corp_id, "corpsecret": s.secret}
        )
        return token_from_response(response)

    async def _call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST to the API with a valid token; errcode 0 → body, else a classified error."""

        async def post(token: str) -> httpx.Response:
            return await self.client.post(
                f"{self.settings.base_url}{path}", params={"access_token": token}, json=payload
            )

        response = await call_with_token(self.token, post, wx_token_is_stale)
        raise_for_status_outcome(response)
        body = json_object(response)
        errcode = body.get("errcode")
        if errcode != 0:
            code = errcode if isinstance(errcode, int) else -1
            raise ProviderError(classify(code), str(errcode), body.get("errmsg"))
        return body

    async def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        tasks: dict[tuple[str, str], list[OutboundMessage]] = {}
        missing: list[SendResult] = []
        for m in messages:
            sender = m.params.get("sender") or self.settings.default_sender
            if sender is None:
                missing.append(result(m, Outcome.PERMANENT, error_code="missing_sender"))
            else:
                tasks.setdefault((sender, m.body), []).append(m)
        calls = [
            (sender, group[i : i + MAX_RECIPIENTS])
            for (sender, _), group in tasks.items()
            for i in range(0, len(group), MAX_RECIPIENTS)
        ]
        answers = await bounded_map(
            calls, lambda c: self.guard(c[1], lambda: self._create_task(*c)), self.concurrency
        )
        by_key = {r.idempotency_key: r for r in missing + [r for a in answers for r in a]}
        return [by_key[m.idempotency_key] for m in messages]

    async def _create_task(self, sender: str, group: list[OutboundMessage]) -> list[SendResult]:
        body = await self._call(
            "/cgi-bin/externalcontact/add_msg_template",
            {
                "chat_type": "single",
                "external_userid": [m.address for m in group],
                "sender": sender,
                "text": {"content": group[0].body},
            },
        )
        failed = set(body.get("fail_list") or [])
        msgid = body.get("msgid")
        return [
            result(m, Outcome.OPTED_OUT, error_code="fail_list")
            if m.address in failed
            else result(m, Outcome.SENT, provider_message_id=msgid)
            for m in group
        ]

    async def get_groupmsg_send_result(self, msgid: str, sender: str) -> list[RecipientStatus]:
        """Per-customer status of a task created by `send_batch` (all pages)."""
        statuses: list[RecipientStatus] = []
        cursor = ""
        while True:
            body = await self._call(
                "/cgi-bin/externalcontact/get_groupmsg_send_result",
                {
                    "msgid": msgid,
                    "userid": sender,
                    "limit": 1000,
                    "cursor": cursor,
                },
            )
            statuses += [
                RecipientStatus(
                    item["external_userid"],
                    GroupMsgStatus(item.get("status", 0)),
                    item.get("send_time"),
                )
                for item in body.get("send_list", [])
            ]
            cursor = body.get("next_cursor") or ""
            if not cursor:
                return statuses
