"""Receiver side of our signed webhook contract (`channels.contract`): checks the signature and
the Idempotency-Key, answers 410 for opted-out recipients, and replays the first answer for a
repeated key instead of accepting the message again."""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from emulators.base import Delivery, Emulator
from emulators.contract_auth import contract_valid


def contract_error(status: int, code: str) -> JSONResponse:
    return JSONResponse({"error": code}, status)


class WebhookReceiver(Emulator):
    opt_out_code = "unsubscribed"
    path = "/"
    accepted_status = 200

    def __init__(self, *, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def routes(self) -> list[Route]:
        return [Route(self.path, self.receive, methods=["POST"])]

    def validate(self, payload: dict[str, Any]) -> tuple[str, str] | JSONResponse:
        """(recipient address, template) of a well-formed payload, else the error answer."""
        address, template = payload.get("address"), payload.get("template")
        if not isinstance(address, str) or not isinstance(template, str) or not address:
            return contract_error(422, "missing_field")
        return address, template

    async def receive(self, request: Request) -> JSONResponse:
        body = await request.body()
        if not contract_valid(self.secret, request.headers, body):
            return contract_error(401, "bad_signature")
        key = request.headers.get("idempotency-key")
        if not key:
            return contract_error(400, "missing_idempotency_key")
        try:
            payload = json.loads(body)
        except ValueError:
            return contract_error(400, "invalid_json")
        checked = (
            self.validate(payload)
            if isinstance(payload, dict)
            else contract_error(400, "invalid_json")
        )
        if isinstance(checked, JSONResponse):
            return checked
        address, template = checked
        if (refused := self.refusal(address)) is not None:
            return contract_error(410, refused)
        reply = self.deliver(
            key, Delivery(key, address, template, payload), {"id": f"evt_{secrets.token_hex(8)}"}
        )
        return JSONResponse(reply, self.accepted_status)
