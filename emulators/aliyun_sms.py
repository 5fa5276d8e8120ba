"""Alibaba Cloud SMS `SendSms` emulator: RPC signature, timestamp and nonce checks, sign name,
template and its variables, mainland number format; deduplicates on `OutId`."""

from __future__ import annotations

import hmac
import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from channels.sms_aliyun import API_VERSION, rpc_signature
from emulators.base import MAINLAND_PHONE, Delivery, Emulator

REQUIRED = (
    "AccessKeyId",
    "Action",
    "Format",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureVersion",
    "Timestamp",
    "Version",
    "Signature",
    "PhoneNumbers",
    "SignName",
    "TemplateCode",
)
MAX_CLOCK_SKEW = timedelta(minutes=15)
BEIJING = timezone(timedelta(hours=8))


class AliyunSmsEmulator(Emulator):
    opt_out_code = "isv.CUSTOMER_REFUSED"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_names: Iterable[str],
        templates: Mapping[str, Iterable[str]],
    ) -> None:
        super().__init__()
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sign_names = set(sign_names)
        self.templates = {code: set(names) for code, names in templates.items()}
        self._nonces: set[str] = set()

    def routes(self) -> list[Route]:
        return [Route("/", self.send_sms, methods=["POST"])]

    @staticmethod
    def _answer(
        code: str, message: str, status: int = 200, extra: dict[str, str] | None = None
    ) -> JSONResponse:
        return JSONResponse(
            {
                "RequestId": str(uuid.uuid4()).upper(),
                "Code": code,
                "Message": message,
                **(extra or {}),
            },
            status,
        )

    def _authenticate(self, params: dict[str, str]) -> JSONResponse | None:
        if params["AccessKeyId"] != self.access_key_id:
            return self._answer(
                "InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404
            )
        given = params.pop("Signature")
        expected = rpc_signature(params, self.access_key_secret, "POST")
        if not hmac.compare_digest(given, expected):
            return self._answer(
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation.",
                400,
            )
        try:
            sent_at = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return self._answer("InvalidTimeStamp.Format", "Specified time stamp is invalid.", 400)
        if abs(datetime.now(UTC) - sent_at.replace(tzinfo=UTC)) > MAX_CLOCK_SKEW:
            return self._answer("InvalidTimeStamp.Expired", "Specified time stamp is expired.", 400)
        if params["SignatureNonce"] in self._nonces:
            return self._answer("SignatureNonceUsed", "Specified signature nonce was used.", 400)
        self._nonces.add(params["SignatureNonce"])
        return None

    def _check_content(self, params: dict[str, str]) -> JSONResponse | None:
        if params["Action"] != "SendSms" or params["Version"] != API_VERSION:
            return self._answer("InvalidAction.NotFound", "Specified api is not found.", 404)
        if params["SignName"] not in self.sign_names:
            return self._answer("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        names = self.templates.get(params["TemplateCode"])
        if names is None:
            return self._answer("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        try:
            values = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return self._answer("isv.INVALID_JSON_PARAM", "JSON参数不合法")
        if not isinstance(values, dict) or not names <= set(values):
            return self._answer("isv.TEMPLATE_MISSING_PARAMETERS", "模板变量缺少对应参数值")
        return None

    async def send_sms(self, request: Request) -> JSONResponse:
        params = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        missing = next((name for name in REQUIRED if not params.get(name)), None)
        if missing is not None:
            return self._answer(
                f"Missing{missing}", f"{missing} is mandatory for this action.", 400
            )
        failure = self._authenticate(params) or self._check_content(params)
        if failure is not None:
            return failure
        numbers = params["PhoneNumbers"].split(",")
        if not all(MAINLAND_PHONE.match(n) for n in numbers):
            return self._answer("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        refused = next((self.refusal(n) for n in numbers if self.refusal(n)), None)
        if refused is not None:
            return self._answer(refused, "recipient refused")
        key = params.get("OutId") or None
        delivery = Delivery(
            key,
            params["PhoneNumbers"],
            params["TemplateCode"],
            json.loads(params.get("TemplateParam") or "{}"),
        )
        reply = self.deliver(key, delivery, {"BizId": f"{uuid.uuid4().int % 10**18}^0"})
        return self._answer("OK", "OK", extra=reply)

    def status_reports(self, failed: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """The SmsReport HTTP push (a JSON array) for every message accepted under an OutId;
        numbers in `failed` are reported undelivered with the given err_code."""
        failed = failed or {}
        now = datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        reports = []
        for delivery in self.deliveries:
            if delivery.key is None:
                continue  # its BizId was not kept: Alibaba needs OutId to report it to us
            for number in delivery.address.split(","):
                code = failed.get(number)
                reports.append(
                    {
                        "phone_number": number,
                        "send_time": now,
                        "report_time": now,
                        "success": code is None,
                        "err_code": code or "DELIVERED",
                        "err_msg": "用户接收失败" if code else "用户接收成功",
                        "sms_size": "1",
                        "biz_id": self._replies[delivery.key]["BizId"],
                        "out_id": delivery.key,
                    }
                )
        return reports
