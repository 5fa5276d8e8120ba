"""WeChat emulator: `/cgi-bin/token` and subscribe message send (mini program `send` and
official account `bizsend`). Checks app credentials, access tokens (invalid → 40001, expired →
42001), openid, template id and data keys, and each user's one-time subscriptions: `grant()` adds
one, a send uses one up, none left → 43101.

Each API is held to the body fields its own documentation lists: `send` takes `page` (a mini
program path), `miniprogram_state` and `lang`; `bizsend` takes `page` as a web URL and opens a
mini program only through `miniprogram: {appid, pagepath}`. A field the API does not list is a
data format error (47001), a malformed link an invalid argument (47003), a web address as a
mini program page an invalid page (41030)."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from emulators.base import Delivery, Emulator

_OPENID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_WEB_URL = re.compile(r"^https?://\S+$")
TOKEN_LIFETIME = 7200
QUOTA_EXHAUSTED = 43101  # the user has no subscription to this template left
MINI_SEND = "/cgi-bin/message/subscribe/send"
OA_BIZSEND = "/cgi-bin/message/subscribe/bizsend"
# The request body fields each API documents.
FIELDS = {
    MINI_SEND: {"touser", "template_id", "page", "data", "miniprogram_state", "lang"},
    OA_BIZSEND: {"touser", "template_id", "page", "miniprogram", "data"},
}


def wx_error(errcode: int, errmsg: str) -> JSONResponse:
    return JSONResponse({"errcode": errcode, "errmsg": errmsg})


def issue_token(tokens: dict[str, bool]) -> str:
    """A fresh access token, recorded as valid until the emulator expires its tokens."""
    token = secrets.token_urlsafe(48)
    tokens[token] = True
    return token


def access_token_error(
    request: Request, tokens: Mapping[str, bool], invalid_code: int, invalid_msg: str
) -> JSONResponse | None:
    """The `access_token` query check WeChat and WeCom share; only the answer to an unknown
    token differs between them. None when the token is valid."""
    token = request.query_params.get("access_token")
    if not token:
        return wx_error(41001, "access_token missing")
    if token not in tokens:
        return wx_error(invalid_code, invalid_msg)
    if not tokens[token]:
        return wx_error(42001, "access_token expired")
    return None


class WeChatEmulator(Emulator):
    opt_out_code = QUOTA_EXHAUSTED

    def __init__(
        self, *, app_id: str, app_secret: str, templates: Mapping[str, Iterable[str]]
    ) -> None:
        """`templates`: template id → the data keys it needs (e.g. thing1, time2)."""
        super().__init__()
        self.app_id = app_id
        self.app_secret = app_secret
        self.templates = {tid: set(keys) for tid, keys in templates.items()}
        self.subscriptions: Counter[tuple[str, str]] = Counter()
        self.tokens: dict[str, bool] = {}  # token → still valid
        self._msgid = 2_000_000_000

    def routes(self) -> list[Route]:
        return [
            Route("/cgi-bin/token", self.token, methods=["GET"]),
            *(Route(path, self.send, methods=["POST"]) for path in FIELDS),
        ]

    def grant(self, openid: str, template_id: str, times: int = 1) -> None:
        """The user tapped "allow" on the subscription prompt `times` times."""
        self.subscriptions[(openid, template_id)] += times

    def expire_tokens(self) -> None:
        self.tokens = dict.fromkeys(self.tokens, False)

    def reset(self) -> None:
        super().reset()
        self.subscriptions.clear()
        self.tokens.clear()

    async def token(self, request: Request) -> JSONResponse:
        q = request.query_params
        if q.get("grant_type") != "client_credential":
            return wx_error(40002, "invalid grant_type")
        if q.get("appid") != self.app_id:
            return wx_error(40013, "invalid appid")
        if q.get("secret") != self.app_secret:
            return wx_error(40125, "invalid appsecret")
        return JSONResponse(
            {"access_token": issue_token(self.tokens), "expires_in": TOKEN_LIFETIME}
        )

    def token_error(self, request: Request) -> JSONResponse | None:
        return access_token_error(
            request, self.tokens, 40001, "invalid credential, access_token is invalid or not latest"
        )

    async def send(self, request: Request) -> JSONResponse:
        if (failure := self.token_error(request)) is not None:
            return failure
        try:
            body: dict[str, Any] = json.loads(await request.body())
        except ValueError:
            return wx_error(47001, "data format error")
        if not isinstance(body, dict) or not set(body) <= FIELDS[request.url.path]:
            return wx_error(47001, "data format error")
        if (failure := self._link_error(request.url.path, body)) is not None:
            return failure
        openid, template_id = str(body.get("touser", "")), str(body.get("template_id", ""))
        if not _OPENID.match(openid):
            return wx_error(40003, "invalid openid")
        keys = self.templates.get(template_id)
        if keys is None:
            return wx_error(40037, "invalid template_id")
        data = body.get("data") or {}
        if set(data) != keys or not all(
            isinstance(v, dict) and "value" in v for v in data.values()
        ):
            return wx_error(47003, "argument invalid! data.value invalid")
        if (refused := self.refusal(openid)) is not None:
            return wx_error(refused, "refused")
        if self.subscriptions[(openid, template_id)] <= 0:
            return wx_error(QUOTA_EXHAUSTED, "user refuse to accept the msg")
        self.subscriptions[(openid, template_id)] -= 1
        self._msgid += 1
        self.deliver(None, Delivery(None, openid, template_id, body), None)
        return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": self._msgid})

    @staticmethod
    def _link_error(path: str, body: dict[str, Any]) -> JSONResponse | None:
        """`send`'s page is a path in the mini program (41030 otherwise); `bizsend`'s page is a
        web address and its mini program link exactly {appid, pagepath}."""
        if path == MINI_SEND:
            web = "page" in body and _WEB_URL.match(str(body["page"]))
            return wx_error(41030, "invalid page") if web else None
        if "page" in body and not _WEB_URL.match(str(body["page"])):
            return wx_error(47003, "argument invalid! page must be a web url")
        link = body.get("miniprogram")
        if link is not None and not (
            isinstance(link, dict)
            and set(link) == {"appid", "pagepath"}
            and all(isinstance(v, str) and v for v in link.values())
        ):
            return wx_error(47003, "argument invalid! miniprogram needs appid and pagepath")
        return None


_PUSH_CONTAINERS = {
    "subscribe_msg_popup_event": "SubscribeMsgPopupEvent",
    "subscribe_msg_change_event": "SubscribeMsgChangeEvent",
    "subscribe_msg_sent_event": "SubscribeMsgSentEvent",
}


def subscribe_push(
    token: str,
    event: str,
    openid: str,
    items: list[dict[str, str]],
    *,
    as_json: bool = False,
    create_time: int | None = None,
    account: str = "gh_0123456789ab",
) -> tuple[dict[str, str], bytes]:
    """What WeChat POSTs to the developer's server URL about subscribe messages (plain-text
    mode): the signed query (signature = sha1 of sorted token, timestamp, nonce) and the body."""
    timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**9))
    query = {
        "signature": hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest(),
        "timestamp": timestamp,
        "nonce": nonce,
    }
    created = str(create_time or int(time.time()))
    if as_json:
        return query, json.dumps(
            {
                "ToUserName": account,
                "FromUserName": openid,
                "CreateTime": created,
                "MsgType": "event",
                "Event": event,
                "List": items,
            }
        ).encode()
    entries = "".join(
        "<List>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in item.items()) + "</List>"
        for item in items
    )
    container = _PUSH_CONTAINERS[event]
    return query, (
        f"<xml><ToUserName><![CDATA[{account}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event><{container}>{entries}</{container}>"
        "</xml>"
    ).encode()
