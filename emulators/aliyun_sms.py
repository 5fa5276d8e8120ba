"""Alibaba Cloud SMS (`dysmsapi` 2017-05-25) emulator: `SendSms`, `SendBatchSms` and
`QuerySendDetails`.

Parameters come from the query string and the form body, as the gateway takes them; requests
are signed either the RPC way (HMAC-SHA1) or with V3 (ACS3-HMAC-SHA256), checked by
`emulators.aliyun_auth`. Timestamp window and nonce reuse are refused; sign name, template and
its variables and mainland number format are checked; sends dedupe on `OutId`. `SendBatchSms`
is served too; any other action gets the gateway's `InvalidAction.NotFound`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from emulators.aliyun_auth import acs3_expected, acs3_headers_complete, parse_acs3, rpc_valid
from emulators.base import MAINLAND_PHONE, Delivery, Emulator

API_VERSION = "2017-05-25"
RPC_COMMON = (
    "AccessKeyId",
    "Action",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureVersion",
    "Timestamp",
    "Version",
    "Signature",
)
ACS3_HEADERS = ("x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce")
SEND_REQUIRED = ("PhoneNumbers", "SignName", "TemplateCode")
BATCH_REQUIRED = ("PhoneNumberJson", "SignNameJson", "TemplateCode")
MAX_BATCH = 100
QUERY_REQUIRED = ("PhoneNumber", "SendDate", "PageSize", "CurrentPage")
MAX_CLOCK_SKEW = timedelta(minutes=15)
BEIJING = timezone(timedelta(hours=8))
# QuerySendDetails SendStatus: 1 waiting for the carrier's report, 2 failed, 3 delivered.
WAITING, FAILED, DELIVERED = 1, 2, 3


class Refused(Exception):
    """A request the gateway answers with an error (code, message, HTTP status)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(code)
        self.code, self.message, self.status = code, message, status


@dataclass
class SentSms:
    """One number of one accepted SendSms, and what the carrier reported (None: not yet)."""

    biz_id: str
    out_id: str | None
    number: str
    template: str
    sent_at: datetime
    err_code: str | None = None
    reported_at: datetime | None = None


def _answer(
    code: str, message: str, status: int = 200, extra: Mapping[str, Any] | None = None
) -> JSONResponse:
    body = {"RequestId": str(uuid.uuid4()).upper(), "Code": code, "Message": message}
    body.update(extra or {})
    return JSONResponse(body, status)


def _beijing(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


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
        self.sent: list[SentSms] = []
        self._nonces: set[str] = set()

    def routes(self) -> list[Route]:
        return [Route("/", self.handle, methods=["GET", "POST"])]

    def reset(self) -> None:
        super().reset()
        self.sent.clear()

    async def handle(self, request: Request) -> JSONResponse:
        body = await request.body()
        query = dict(request.query_params)
        form: dict[str, str] = {}
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        params = {**query, **form}
        try:
            if request.headers.get("authorization", "").startswith("ACS3-"):
                action, version = self._acs3(request, query, body)
            else:
                action, version = self._rpc(request.method, params)
            if version != API_VERSION:
                raise Refused("InvalidVersion", "Specified parameter Version is not valid.")
            if action == "SendSms":
                return self._send_sms(params)
            if action == "SendBatchSms":
                return self._send_batch_sms(params)
            if action == "QuerySendDetails":
                return self._query_send_details(params)
            raise Refused(
                "InvalidAction.NotFound",
                "Specified api is not found, please check your url and method.",
                404,
            )
        except Refused as refused:
            return _answer(refused.code, refused.message, refused.status)

    def _known_key(self, access_key_id: str) -> None:
        if access_key_id != self.access_key_id:
            raise Refused("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)

    def _fresh(self, timestamp: str, nonce: str) -> None:
        try:
            sent_at = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise Refused("InvalidTimeStamp.Format", "Specified time stamp is invalid.") from None
        if abs(datetime.now(UTC) - sent_at) > MAX_CLOCK_SKEW:
            raise Refused("InvalidTimeStamp.Expired", "Specified time stamp is expired.")
        if nonce in self._nonces:
            raise Refused("SignatureNonceUsed", "Specified signature nonce was used.")
        self._nonces.add(nonce)

    def _rpc(self, method: str, params: dict[str, str]) -> tuple[str, str]:
        missing = next((name for name in RPC_COMMON if not params.get(name)), None)
        if missing is not None:
            raise Refused(f"Missing{missing}", f"{missing} is mandatory for this action.")
        self._known_key(params["AccessKeyId"])
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            raise Refused("InvalidSignatureMethod", "Specified signature method is not supported.")
        if not rpc_valid(params, self.access_key_secret, method):
            raise Refused(
                "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."
            )
        self._fresh(params["Timestamp"], params["SignatureNonce"])
        return params["Action"], params["Version"]

    def _acs3(self, request: Request, query: dict[str, str], body: bytes) -> tuple[str, str]:
        auth = parse_acs3(request.headers["authorization"])
        if auth is None:
            raise Refused("InvalidAuthorization", "Specified Authorization is not valid.")
        missing = next((h for h in ACS3_HEADERS if not request.headers.get(h)), None)
        if missing is not None:
            raise Refused("MissingParameter", f"{missing} is mandatory for this action.")
        self._known_key(auth.access_key_id)
        if not acs3_headers_complete(auth, request.headers):
            raise Refused("IncompleteSignature", "Host, content-type and x-acs-* must be signed.")
        given_hash = request.headers.get("x-acs-content-sha256", "")
        if not hmac.compare_digest(given_hash, hashlib.sha256(body).hexdigest()):
            raise Refused("InvalidContentSha256", "x-acs-content-sha256 does not match the body.")
        expected = acs3_expected(
            auth,
            self.access_key_secret,
            method=request.method,
            path=request.url.path,
            query=query,
            headers=request.headers,
        )
        if not hmac.compare_digest(expected, auth.signature):
            raise Refused(
                "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."
            )
        self._fresh(request.headers["x-acs-date"], request.headers["x-acs-signature-nonce"])
        return request.headers["x-acs-action"], request.headers["x-acs-version"]

    @staticmethod
    def _required(params: dict[str, str], names: Iterable[str]) -> None:
        missing = next((name for name in names if not params.get(name)), None)
        if missing is not None:
            raise Refused(f"Missing{missing}", f"{missing} is mandatory for this action.")

    @staticmethod
    def _json(text: str | None, default: Any) -> Any:
        try:
            return json.loads(text) if text else default
        except ValueError:
            raise Refused("isv.INVALID_JSON_PARAM", "JSON参数不合法", 200) from None

    def _checked(
        self, numbers: list[str], signs: list[str], template: str, values: list[Any]
    ) -> None:
        """Sign names, template variables, number format and refusals, as SendSms checks them."""
        if any(sign not in self.sign_names for sign in signs):
            raise Refused("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名", 200)
        names = self.templates.get(template)
        if names is None:
            raise Refused("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板", 200)
        if not all(isinstance(v, dict) and names <= set(v) for v in values):
            raise Refused("isv.TEMPLATE_MISSING_PARAMETERS", "模板变量缺少对应参数值", 200)
        if not all(isinstance(n, str) and MAINLAND_PHONE.match(n) for n in numbers):
            raise Refused("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号", 200)
        refused = next((self.refusal(n) for n in numbers if self.refusal(n)), None)
        if refused is not None:
            raise Refused(refused, "recipient refused", 200)

    def _accept(
        self, numbers: list[str], template: str, content: dict[str, Any], out_id: str | None
    ) -> JSONResponse:
        key = out_id or None
        delivery = Delivery(key, ",".join(numbers), template, content)
        before = len(self.deliveries)
        reply = self.deliver(key, delivery, {"BizId": f"{uuid.uuid4().int % 10**18}^0"})
        if len(self.deliveries) > before:
            now = datetime.now(UTC)
            self.sent.extend(SentSms(reply["BizId"], key, n, template, now) for n in numbers)
        return _answer("OK", "OK", extra=reply)

    def _send_sms(self, params: dict[str, str]) -> JSONResponse:
        self._required(params, SEND_REQUIRED)
        values = self._json(params.get("TemplateParam"), {})
        numbers = params["PhoneNumbers"].split(",")
        self._checked(numbers, [params["SignName"]], params["TemplateCode"], [values])
        return self._accept(numbers, params["TemplateCode"], values, params.get("OutId"))

    def _send_batch_sms(self, params: dict[str, str]) -> JSONResponse:
        """One template to several numbers, each with its own sign name and variables."""
        self._required(params, BATCH_REQUIRED)
        numbers = self._json(params["PhoneNumberJson"], [])
        signs = self._json(params["SignNameJson"], [])
        values = self._json(params.get("TemplateParamJson"), None)
        values = [{} for _ in numbers] if values is None else values
        lists = (numbers, signs, values)
        if not all(isinstance(x, list) for x in lists) or len({len(x) for x in lists}) != 1:
            raise Refused("isv.INVALID_PARAMETERS", "参数异常", 200)
        if not 1 <= len(numbers) <= MAX_BATCH:
            raise Refused("isv.INVALID_PARAMETERS", "参数异常", 200)
        self._checked(numbers, signs, params["TemplateCode"], values)
        content = {"signs": signs, "params": values}
        return self._accept(numbers, params["TemplateCode"], content, params.get("OutId"))

    def _query_send_details(self, params: dict[str, str]) -> JSONResponse:
        self._required(params, QUERY_REQUIRED)
        try:
            size, page = int(params["PageSize"]), int(params["CurrentPage"])
            day = datetime.strptime(params["SendDate"], "%Y%m%d").date()
        except ValueError:
            raise Refused("isv.INVALID_PARAMETERS", "参数异常", 200) from None
        if not 1 <= size <= 50 or page < 1:
            raise Refused("isv.INVALID_PARAMETERS", "PageSize 1-50, CurrentPage from 1", 200)
        found = [
            s
            for s in self.sent
            if s.number == params["PhoneNumber"]
            and s.sent_at.astimezone(BEIJING).date() == day
            and params.get("BizId", s.biz_id) == s.biz_id
        ]
        shown = found[(page - 1) * size : page * size]
        return _answer(
            "OK",
            "OK",
            extra={
                "TotalCount": len(found),
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": [self._detail(s) for s in shown]},
            },
        )

    @staticmethod
    def _detail(sms: SentSms) -> dict[str, Any]:
        status = WAITING if sms.reported_at is None else FAILED if sms.err_code else DELIVERED
        detail: dict[str, Any] = {
            "PhoneNum": sms.number,
            "SendStatus": status,
            "ErrCode": sms.err_code or ("DELIVERED" if status == DELIVERED else ""),
            "TemplateCode": sms.template,
            "Content": "",
            "SendDate": _beijing(sms.sent_at),
            "ReceiveDate": _beijing(sms.reported_at) if sms.reported_at else "",
            "OutId": sms.out_id or "",
        }
        return detail

    def settle(self, failed: Mapping[str, str] | None = None, waiting: Iterable[str] = ()) -> None:
        """The carrier reports on every number still waiting except those in `waiting`:
        numbers in `failed` get that err_code, the others are delivered."""
        failed, waiting = failed or {}, set(waiting)
        now = datetime.now(UTC)
        for sms in self.sent:
            if sms.reported_at is None and sms.number not in waiting:
                sms.err_code, sms.reported_at = failed.get(sms.number), now

    def status_reports(
        self, failed: Mapping[str, str] | None = None, waiting: Iterable[str] = ()
    ) -> list[dict[str, Any]]:
        """The SmsReport HTTP push (a JSON array) for every reported message accepted under an
        OutId, settling first what was still waiting (see `settle`)."""
        self.settle(failed, waiting)
        return [
            {
                "phone_number": sms.number,
                "send_time": _beijing(sms.sent_at),
                "report_time": _beijing(sms.reported_at or sms.sent_at),
                "success": sms.err_code is None,
                "err_code": sms.err_code or "DELIVERED",
                "err_msg": "用户接收失败" if sms.err_code else "用户接收成功",
                "sms_size": "1",
                "biz_id": sms.biz_id,
                "out_id": sms.out_id,
            }
            for sms in self.sent
            # Alibaba pushes reports only for sends with an OutId
            if sms.out_id is not None and sms.reported_at is not None
        ]
