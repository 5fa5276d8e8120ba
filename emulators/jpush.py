"""JPush REST v3 emulator: Basic auth, the cid pool (`GET /v3/push/cid`), `POST /v3/push` and
`POST /v3/push/validate` (checked like a push, answered like one, pushes nothing). A push with a
cid already used returns the first result without pushing again; a cid that was never issued is
refused. Registration ids must be known devices (`devices`)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from emulators.base import Delivery, Emulator, Fault

MAX_CIDS = 10  # per request for a non-VIP app


def jpush_error(code: int, message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status)


class JPushEmulator(Emulator):
    opt_out_code = 1011

    def __init__(self, *, app_key: str, master_secret: str, devices: Iterable[str]) -> None:
        super().__init__()
        self.app_key = app_key
        self.master_secret = master_secret
        self.devices = set(devices)
        self.issued: set[str] = set()
        self._msg_id = 54_043_195_528_423_520

    def routes(self) -> list[Route]:
        return [
            Route("/v3/push/cid", self.cid, methods=["GET"]),
            Route("/v3/push", self.push, methods=["POST"]),
            Route("/v3/push/validate", self.validate, methods=["POST"]),
        ]

    def fault_body(self, status: int) -> dict[str, Any]:
        if status == 429:
            return {"error": {"code": 2002, "message": "Rate limit exceeded"}}
        return {"error": {"code": 1000, "message": "Server error"}}

    def fault_headers(self, fault: Fault) -> dict[str, str]:
        """JPush states its rate limit in X-Rate-Limit-* headers, not Retry-After."""
        if fault.status != 429:
            return {}
        return {
            "X-Rate-Limit-Limit": "600",
            "X-Rate-Limit-Remaining": "0",
            "X-Rate-Limit-Reset": f"{fault.retry_after or 60:g}",
        }

    def reset(self) -> None:
        super().reset()
        self.issued.clear()

    def _authorized(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.app_key}:{self.master_secret}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    async def cid(self, request: Request) -> JSONResponse:
        if not self._authorized(request):
            return jpush_error(1004, "Authen failed", 401)
        count = min(max(int(request.query_params.get("count", "1")), 1), MAX_CIDS)
        cids = [f"{self.app_key}-{uuid.uuid4()}" for _ in range(count)]
        self.issued.update(cids)
        return JSONResponse({"cidlist": cids})

    async def _checked(self, request: Request) -> dict[str, Any] | JSONResponse:
        """The push body if JPush would accept it, else its error answer."""
        if not self._authorized(request):
            return jpush_error(1004, "Authen failed", 401)
        try:
            body: dict[str, Any] = json.loads(await request.body())
        except ValueError:
            return jpush_error(1003, "Cannot parse message body", 400)
        if not {"platform", "audience"} <= set(body) or not (
            body.get("notification") or body.get("message")
        ):
            return jpush_error(1002, "Missing parameter", 400)
        targets = (body.get("audience") or {}).get("registration_id") or []
        if not targets or len(targets) > 1000:
            return jpush_error(1003, "registration_id must be 1 to 1000 ids", 400)
        cid = body.get("cid")
        if cid is not None and cid not in self.issued:
            return jpush_error(1003, "cid is invalid", 400)
        refused = next((self.refusal(t) for t in targets if self.refusal(t) is not None), None)
        if refused is not None or not set(targets) <= self.devices:
            return jpush_error(refused or 1011, "cannot find user by this audience", 400)
        return body

    async def push(self, request: Request) -> JSONResponse:
        body = await self._checked(request)
        if isinstance(body, JSONResponse):
            return body
        cid, targets = body.get("cid"), body["audience"]["registration_id"]
        self._msg_id += 1
        delivery = Delivery(cid, ",".join(targets), "notification", body)
        reply = self.deliver(cid, delivery, {"sendno": "0", "msg_id": str(self._msg_id)})
        return JSONResponse(reply)

    async def validate(self, request: Request) -> JSONResponse:
        body = await self._checked(request)
        if isinstance(body, JSONResponse):
            return body
        return JSONResponse({"sendno": "0", "msg_id": str(self._msg_id + 1)})
