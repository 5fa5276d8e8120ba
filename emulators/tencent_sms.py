"""Tencent Cloud SMS `SendSms` (2021-01-11) emulator: TC3-HMAC-SHA256 Authorization recomputed
from the signed headers, timestamp window, app id, sign name, template and parameter count, E.164
mainland numbers; per-number statuses; deduplicates on (SessionContext, number)."""

from __future__ import annotations

import hmac
import json
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from channels.sms_tencent import MAX_NUMBERS, SERVICE, VERSION, tc3_signature
from emulators.base import Delivery, Emulator

_AUTHORIZATION = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>[\d-]+)/(?P<service>[^/]+)/tc3_request,"
    r" SignedHeaders=(?P<names>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})$"
)
_E164_MAINLAND = re.compile(r"^\+861[3-9]\d{9}$")
MAX_CLOCK_SKEW = 300


class TencentSmsEmulator(Emulator):
    opt_out_code = "FailedOperation.PhoneNumberInBlacklist"

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_names: Iterable[str],
        templates: Mapping[str, int],
    ) -> None:
        """`templates`: template id → number of parameters it takes."""
        super().__init__()
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        self.sign_names = set(sign_names)
        self.templates = dict(templates)

    def routes(self) -> list[Route]:
        return [Route("/", self.send_sms, methods=["POST"])]

    @staticmethod
    def _error(code: str, message: str) -> JSONResponse:
        return JSONResponse(
            {
                "Response": {
                    "Error": {"Code": code, "Message": message},
                    "RequestId": str(uuid.uuid4()),
                }
            }
        )

    def _authenticate(self, request: Request, payload: bytes) -> JSONResponse | None:
        match = _AUTHORIZATION.match(request.headers.get("authorization", ""))
        if match is None:
            return self._error("AuthFailure.InvalidAuthorization", "Authorization is invalid.")
        if match["id"] != self.secret_id:
            return self._error("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        try:
            timestamp = int(request.headers.get("x-tc-timestamp", ""))
        except ValueError:
            return self._error("MissingParameter", "X-TC-Timestamp is missing.")
        if abs(time.time() - timestamp) > MAX_CLOCK_SKEW:
            return self._error("AuthFailure.SignatureExpire", "Signature expired.")
        names = match["names"].split(";")
        if not {"content-type", "host"} <= set(names) or match["service"] != SERVICE:
            return self._error("AuthFailure.InvalidAuthorization", "Authorization is invalid.")
        signed = {name: request.headers.get(name, "") for name in names}
        expected, _ = tc3_signature(
            self.secret_key, timestamp=timestamp, service=SERVICE, headers=signed, payload=payload
        )
        if not hmac.compare_digest(expected, match["signature"]):
            return self._error(
                "AuthFailure.SignatureFailure", "The provided credentials could not be validated."
            )
        return None

    def _check(self, request: Request, body: dict[str, Any]) -> JSONResponse | None:
        if request.headers.get("x-tc-action") != "SendSms":
            return self._error("InvalidAction", "The action is not found.")
        if request.headers.get("x-tc-version") != VERSION:
            return self._error("NoSuchVersion", "The version is not found.")
        if body.get("SmsSdkAppId") != self.sdk_app_id:
            return self._error("InvalidParameterValue.SdkAppIdNotExist", "SdkAppId not exist.")
        if body.get("SignName") not in self.sign_names:
            return self._error(
                "FailedOperation.SignatureIncorrectOrUnapproved", "Signature is unapproved."
            )
        count = self.templates.get(str(body.get("TemplateId")))
        if count is None:
            return self._error(
                "FailedOperation.TemplateIncorrectOrUnapproved", "Template is unapproved."
            )
        if len(body.get("TemplateParamSet") or []) != count:
            return self._error(
                "InvalidParameterValue.TemplateParameterFormatError",
                "Template parameters do not match the template.",
            )
        if not 1 <= len(body.get("PhoneNumberSet") or []) <= MAX_NUMBERS:
            return self._error(
                "LimitExceeded.PhoneNumberCountLimit", "Between 1 and 200 numbers per request."
            )
        return None

    async def send_sms(self, request: Request) -> JSONResponse:
        payload = await request.body()
        failure = self._authenticate(request, payload)
        if failure is not None:
            return failure
        try:
            body = json.loads(payload)
        except ValueError:
            return self._error("FailedOperation.FailResolvePacket", "Request body is not JSON.")
        failure = self._check(request, body)
        if failure is not None:
            return failure
        statuses = [self._send_to(number, body) for number in body["PhoneNumberSet"]]
        return JSONResponse(
            {"Response": {"SendStatusSet": statuses, "RequestId": str(uuid.uuid4())}}
        )

    def _send_to(self, number: str, body: dict[str, Any]) -> dict[str, Any]:
        status = {
            "PhoneNumber": number,
            "SessionContext": body.get("SessionContext", ""),
            "IsoCode": "CN",
            "Fee": 0,
            "SerialNo": "",
        }
        if not _E164_MAINLAND.match(number):
            return {
                **status,
                "Code": "InvalidParameterValue.IncorrectPhoneNumber",
                "Message": "incorrect phone number",
            }
        if (refused := self.refusal(number)) is not None:
            return {**status, "Code": refused, "Message": "recipient refused"}
        context = body.get("SessionContext")
        key = f"{context}|{number}" if context else None
        delivery = Delivery(
            key,
            number,
            str(body["TemplateId"]),
            {"params": body.get("TemplateParamSet") or [], "session_context": context},
        )
        return self.deliver(
            key,
            delivery,
            {
                **status,
                "Fee": 1,
                "Code": "Ok",
                "Message": "send success",
                "SerialNo": f"2028:{uuid.uuid4().int % 10**20}",
            },
        )

    def status_callbacks(self, failed: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """The status callback push (a JSON array) for every number accepted so far; E.164
        numbers in `failed` are reported FAIL with the given errmsg code."""
        failed = failed or {}
        now = datetime.now(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S")
        reports = []
        for delivery in self.deliveries:
            if delivery.key is None:
                continue  # no SessionContext: its SerialNo was not kept
            code = failed.get(delivery.address)
            reports.append(
                {
                    "user_receive_time": now,
                    "nationcode": "86",
                    "mobile": delivery.address.removeprefix("+86"),
                    "report_status": "FAIL" if code else "SUCCESS",
                    "errmsg": code or "DELIVRD",
                    "description": "用户短信接收失败" if code else "用户短信送达成功",
                    "sid": self._replies[delivery.key]["SerialNo"],
                }
            )
        return reports
