"""WeCom emulator: `gettoken`, `add_msg_template` (single chat) and
`get_groupmsg_send_result`. Knows each guide's external contacts: customers who are not the
sender's friends come back in `fail_list`. A created task stays unsent until `confirm()` (the
guide tapping "send" in the app); customers who already got a group message today get status 3.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from emulators.base import Delivery, Emulator
from emulators.wechat import access_token_error, issue_token, wx_error


class GroupMsgStatus(IntEnum):
    """`status` in get_groupmsg_send_result, as WeCom documents it."""

    UNSENT = 0
    SENT = 1
    NOT_FRIEND = 2
    ALREADY_RECEIVED = 3  # the customer already got another group message today


class WeComEmulator(Emulator):
    def __init__(self, *, corp_id: str, secret: str, guides: Mapping[str, Iterable[str]]) -> None:
        """`guides`: guide userid → external_userids of the customers who added them."""
        super().__init__()
        self.corp_id = corp_id
        self.secret = secret
        self.guides = {userid: set(friends) for userid, friends in guides.items()}
        self.tokens: dict[str, bool] = {}
        self.tasks: dict[str, dict[str, Any]] = {}  # msgid → {"sender", "statuses"}
        self.received_today: set[str] = set()

    def routes(self) -> list[Route]:
        base = "/cgi-bin/externalcontact"
        return [
            Route("/cgi-bin/gettoken", self.token, methods=["GET"]),
            Route(f"{base}/add_msg_template", self.add_msg_template, methods=["POST"]),
            Route(f"{base}/get_groupmsg_send_result", self.send_result, methods=["POST"]),
        ]

    def expire_tokens(self) -> None:
        self.tokens = dict.fromkeys(self.tokens, False)

    def confirm(self, msgid: str) -> None:
        """The guide sends the task: each customer gets it, unless already messaged today."""
        statuses = self.tasks[msgid]["statuses"]
        for customer in statuses:
            already = customer in self.received_today
            statuses[customer] = GroupMsgStatus.ALREADY_RECEIVED if already else GroupMsgStatus.SENT
            self.received_today.add(customer)

    def reset(self) -> None:
        super().reset()
        self.tokens.clear()
        self.tasks.clear()
        self.received_today.clear()

    async def token(self, request: Request) -> JSONResponse:
        if request.query_params.get("corpid") != self.corp_id:
            return wx_error(40013, "invalid corpid")
        if request.query_params.get("corpsecret") != self.secret:
            return wx_error(40001, "invalid credential")
        return JSONResponse(
            {
                "errcode": 0,
                "errmsg": "ok",
                "access_token": issue_token(self.tokens),
                "expires_in": 7200,
            }
        )

    async def _authorized_body(self, request: Request) -> dict[str, Any] | JSONResponse:
        failure = access_token_error(request, self.tokens, 40014, "invalid access_token")
        if failure is not None:
            return failure
        try:
            body = json.loads(await request.body())
        except ValueError:
            return wx_error(47001, "data format error")
        return body if isinstance(body, dict) else wx_error(47001, "data format error")

    async def add_msg_template(self, request: Request) -> JSONResponse:
        body = await self._authorized_body(request)
        if isinstance(body, JSONResponse):
            return body
        sender = body.get("sender")
        customers = body.get("external_userid") or []
        content = (body.get("text") or {}).get("content")
        if body.get("chat_type", "single") != "single" or not customers or not content:
            return wx_error(40058, "invalid parameter")
        if sender not in self.guides:
            return wx_error(60111, "invalid userid")
        reachable = [c for c in customers if c in self.guides[sender] and self.refusal(c) is None]
        msgid = f"msg{secrets.token_hex(12)}"
        self.tasks[msgid] = {
            "sender": sender,
            "statuses": dict.fromkeys(reachable, GroupMsgStatus.UNSENT),
        }
        for customer in reachable:
            self.deliver(
                None, Delivery(None, customer, "text", {"content": content, "msgid": msgid}), None
            )
        return JSONResponse(
            {
                "errcode": 0,
                "errmsg": "ok",
                "msgid": msgid,
                "fail_list": [c for c in customers if c not in reachable],
            }
        )

    async def send_result(self, request: Request) -> JSONResponse:
        body = await self._authorized_body(request)
        if isinstance(body, JSONResponse):
            return body
        task = self.tasks.get(str(body.get("msgid")))
        if task is None or task["sender"] != body.get("userid"):
            return wx_error(40058, "invalid msgid or userid")
        rows = [
            {"external_userid": c, "userid": task["sender"], "status": int(s)}
            for c, s in task["statuses"].items()
        ]
        start = int(body.get("cursor") or 0)
        end = start + int(body.get("limit") or 500)
        return JSONResponse(
            {
                "errcode": 0,
                "errmsg": "ok",
                "send_list": rows[start:end],
                "next_cursor": str(end) if end < len(rows) else "",
            }
        )
