"""Tencent Cloud SMS (2021-01-11) emulator: `SendSms` and `PullSmsSendStatus`, as API 3.0 takes
them: signed TC3-HMAC-SHA256 by POST (JSON body) or GET (parameters in the query string), or
signed v1 (HmacSHA1/HmacSHA256) by GET or form POST with every parameter beside the signature.
Both are checked by `emulators.tencent_auth`, with the timestamp window; app id, sign name,
template and parameter count, E.164 mainland numbers; per-number statuses; deduplicates on
(SessionContext, number). Delivery statuses, once settled, can be pulled once each, as Tencent hands them out."""

from __future__ import annotations

import hmac
import json
import re
import time
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from emulators.base import Delivery, Emulator
from emulators.tencent_auth import date_matches, parse_tc3, tc3_expected, v1_expected

VERSION = "2021-01-11"
SERVICE = "sms"
MAX_NUMBERS = 200
MAX_PULL = 100
_E164_MAINLAND = re.compile(r"^\+861[3-9]\d{9}$")
_LIST = re.compile(r"^(?P<name>\w+)\.(?P<index>\d+)$")
MAX_CLOCK_SKEW = 300
# Signature v1's common parameters; the rest of a v1 request is the action's own.
V1_COMMON = {
    "Action",
    "Version",
    "Region",
    "Timestamp",
    "Nonce",
    "SecretId",
    "Signature",
    "SignatureMethod",
    "Token",
    "Language",
    "RequestClient",
}
BEIJING = timezone(timedelta(hours=8))


def query_params(query: str) -> dict[str, Any]:
    """The parameters of a GET call: `Name.0=…&Name.1=…` are the list `Name`."""
    params: dict[str, Any] = {}
    lists: dict[str, dict[int, str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        match = _LIST.match(name)
        if match is None:
            params[name] = value
        else:
            lists.setdefault(match["name"], {})[int(match["index"])] = value
    return params | {name: [items[i] for i in sorted(items)] for name, items in lists.items()}


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
        self._settled: set[str] = set()  # keys of deliveries whose status is known
        self._pullable: deque[dict[str, Any]] = deque()

    def routes(self) -> list[Route]:
        return [Route("/", self.handle, methods=["GET", "POST"])]

    def reset(self) -> None:
        super().reset()
        self._settled.clear()
        self._pullable.clear()

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

    def _fresh(self, timestamp: str) -> JSONResponse | None:
        try:
            sent_at = int(timestamp)
        except ValueError:
            return self._error("MissingParameter", "Timestamp is missing.")
        if abs(time.time() - sent_at) > MAX_CLOCK_SKEW:
            return self._error("AuthFailure.SignatureExpire", "Signature expired.")
        return None

    def _known(self, secret_id: str) -> JSONResponse | None:
        if secret_id != self.secret_id:
            return self._error("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        return None

    @staticmethod
    def _mismatch() -> JSONResponse:
        return TencentSmsEmulator._error(
            "AuthFailure.SignatureFailure", "The provided credentials could not be validated."
        )

    def _authenticate(self, request: Request, payload: bytes) -> JSONResponse | None:
        auth = parse_tc3(request.headers.get("authorization", ""))
        if auth is None:
            return self._error("AuthFailure.InvalidAuthorization", "Authorization is invalid.")
        timestamp = request.headers.get("x-tc-timestamp", "")
        if (failure := self._known(auth.secret_id) or self._fresh(timestamp)) is not None:
            return failure
        if (
            not {"content-type", "host"} <= set(auth.signed_headers)
            or auth.service != SERVICE
            or not date_matches(auth, int(timestamp))
        ):
            return self._error("AuthFailure.InvalidAuthorization", "Authorization is invalid.")
        expected = tc3_expected(
            auth,
            self.secret_key,
            timestamp=int(timestamp),
            method=request.method,
            path=request.url.path,
            query=request.url.query if request.method == "GET" else "",
            headers=request.headers,
            payload=payload,
        )
        return None if hmac.compare_digest(expected, auth.signature) else self._mismatch()

    def _authenticate_v1(self, request: Request, params: dict[str, str]) -> JSONResponse | None:
        missing = next((p for p in ("SecretId", "Signature", "Nonce") if not params.get(p)), None)
        if missing is not None:
            return self._error("MissingParameter", f"{missing} is missing.")
        failure = self._known(params["SecretId"]) or self._fresh(params.get("Timestamp", ""))
        if failure is not None:
            return failure
        expected = v1_expected(
            params,
            self.secret_key,
            method=request.method,
            host=request.headers.get("host", ""),
            path=request.url.path,
        )
        if expected is None:
            return self._error("InvalidParameterValue", "SignatureMethod is not supported.")
        return None if hmac.compare_digest(expected, params["Signature"]) else self._mismatch()

    async def handle(self, request: Request) -> JSONResponse:
        payload = await request.body()
        if "authorization" not in request.headers:
            return self._handle_v1(request, payload)
        failure = self._authenticate(request, payload)
        if failure is not None:
            return failure
        if request.method == "GET":
            body: Any = query_params(request.url.query)
        else:
            try:
                body = json.loads(payload)
            except ValueError:
                return self._error("FailedOperation.FailResolvePacket", "Request body is not JSON.")
        if not isinstance(body, dict):
            return self._error("FailedOperation.FailResolvePacket", "Request body is not JSON.")
        headers = request.headers
        return self._act(headers.get("x-tc-action"), headers.get("x-tc-version"), body)

    def _handle_v1(self, request: Request, payload: bytes) -> JSONResponse:
        """A request signed v1: the signature and every parameter in the query or form body."""
        raw = request.url.query if request.method == "GET" else payload.decode("utf-8", "replace")
        params = dict(parse_qsl(raw, keep_blank_values=True))
        if "Signature" not in params:
            return self._error("AuthFailure.InvalidAuthorization", "Authorization is invalid.")
        failure = self._authenticate_v1(request, params)
        if failure is not None:
            return failure
        own = {k: v for k, v in query_params(raw).items() if k not in V1_COMMON}
        return self._act(params.get("Action"), params.get("Version"), own)

    def _act(self, action: str | None, version: str | None, body: dict[str, Any]) -> JSONResponse:
        if version != VERSION:
            return self._error("NoSuchVersion", "The version is not found.")
        if action == "SendSms":
            return self._send_sms(body)
        if action == "PullSmsSendStatus":
            return self._pull_status(body)
        return self._error("InvalidAction", "The action is not found.")

    def _check(self, body: dict[str, Any]) -> JSONResponse | None:
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

    def _send_sms(self, body: dict[str, Any]) -> JSONResponse:
        failure = self._check(body)
        if failure is not None:
            return failure
        statuses = [self._send_to(number, body) for number in body["PhoneNumberSet"]]
        return JSONResponse(
            {"Response": {"SendStatusSet": statuses, "RequestId": str(uuid.uuid4())}}
        )

    def _pull_status(self, body: dict[str, Any]) -> JSONResponse:
        try:
            limit = int(body.get("Limit", ""))
        except ValueError:
            return self._error("MissingParameter", "Limit is missing.")
        if not 1 <= limit <= MAX_PULL:
            return self._error("InvalidParameterValue", "Limit must be 1 to 100.")
        if body.get("SmsSdkAppId") != self.sdk_app_id:
            return self._error("InvalidParameterValue.SdkAppIdNotExist", "SdkAppId not exist.")
        pulled = [self._pullable.popleft() for _ in range(min(limit, len(self._pullable)))]
        return JSONResponse(
            {"Response": {"PullSmsSendStatusSet": pulled, "RequestId": str(uuid.uuid4())}}
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
        numbers in `failed` are reported FAIL with the given errmsg code. Statuses settled here
        for the first time can also be pulled once (PullSmsSendStatus)."""
        failed = failed or {}
        now = datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        reports = []
        for delivery in self.deliveries:
            if delivery.key is None:
                continue  # no SessionContext: its SerialNo was not kept
            code = failed.get(delivery.address)
            serial = self._replies[delivery.key]["SerialNo"]
            reports.append(
                {
                    "user_receive_time": now,
                    "nationcode": "86",
                    "mobile": delivery.address.removeprefix("+86"),
                    "report_status": "FAIL" if code else "SUCCESS",
                    "errmsg": code or "DELIVRD",
                    "description": "用户短信接收失败" if code else "用户短信送达成功",
                    "sid": serial,
                }
            )
            if delivery.key not in self._settled:
                self._settled.add(delivery.key)
                self._pullable.append(
                    {
                        "UserReceiveTime": now,
                        "CountryCode": "86",
                        "SubscriberNumber": delivery.address.removeprefix("+86"),
                        "PhoneNumber": delivery.address,
                        "SerialNo": serial,
                        "ReportStatus": "FAIL" if code else "SUCCESS",
                        "Description": code or "DELIVRD",
                        "SessionContext": delivery.content["session_context"] or "",
                    }
                )
        return reports
