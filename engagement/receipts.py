"""SMS delivery receipts in each provider's documented push format (parsing only, no I/O).

Alibaba Cloud SmsReport (HTTP batch push): a JSON array of {phone_number, send_time,
report_time, success, err_code, err_msg, sms_size, biz_id, out_id}; answer {"code": 0, "msg":
"接收成功"}, anything else (or a non-200) makes Alibaba push again after 1, 5 and 10 minutes.
`out_id` is our idempotency key (the adapter sets OutId), `biz_id` the SendSms BizId.

Tencent Cloud SMS status callback: a JSON array of {user_receive_time, nationcode, mobile,
report_status (SUCCESS/FAIL), errmsg, description, sid}; `sid` is the SerialNo SendSms
returned; answer {"result": 0, "errmsg": "OK"}.

The same reports can be pulled where the push never came (engagement.receipt_pull): Alibaba
`QuerySendDetails` items {PhoneNum, SendStatus (1 waiting, 2 failed, 3 delivered), ErrCode,
ReceiveDate, OutId, …} for one BizId, and Tencent `PullSmsSendStatus` items {SerialNo,
ReportStatus, Description, UserReceiveTime, …}; they become the same `Receipt`s.

All give times as Beijing wall-clock "YYYY-MM-DD HH:MM:SS". Phone numbers are read past, never
kept: the send is found by its keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ingest.parse import FieldError, moment
from optout.inbound import BadPayload


@dataclass(frozen=True)
class Receipt:
    """One delivery report: which send (`key` if we set it, else `provider_id`), the result."""

    key: str | None
    provider_id: str | None
    delivered: bool
    code: str
    occurred_at: datetime


def _items(doc: Any) -> list[Mapping[str, Any]]:
    if not isinstance(doc, list) or not all(isinstance(i, Mapping) for i in doc):
        raise BadPayload("expected a JSON array of report objects")
    return doc


def _text(item: Mapping[str, Any], name: str, where: str, *, required: bool) -> str | None:
    value = item.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadPayload(f"{where}.{name}: missing")
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise BadPayload(f"{where}.{name}: not a string")
    text = str(value).strip()
    if len(text) > 128:
        raise BadPayload(f"{where}.{name}: longer than 128 characters")
    return text


def _time(item: Mapping[str, Any], name: str, where: str) -> datetime:
    try:
        at = moment(name, _text(item, name, where, required=True), required=True)
    except FieldError as exc:
        raise BadPayload(f"{where}.{name}: {exc.reason}") from None
    assert at is not None
    return at


def parse_aliyun(doc: Any) -> list[Receipt]:
    receipts = []
    for n, item in enumerate(_items(doc)):
        where = f"[{n}]"
        success = item.get("success")
        if not isinstance(success, bool):
            raise BadPayload(f"{where}.success: not true or false")
        key = _text(item, "out_id", where, required=False)
        biz_id = _text(item, "biz_id", where, required=key is None)
        code = _text(item, "err_code", where, required=False) or ("DELIVERED" if success else "")
        receipts.append(Receipt(key, biz_id, success, code, _time(item, "report_time", where)))
    return receipts


def parse_tencent(doc: Any) -> list[Receipt]:
    return _tencent(_items(doc), "", ("report_status", "sid", "errmsg", "user_receive_time"))


def from_aliyun_details(biz_id: str, details: Sequence[Mapping[str, Any]]) -> list[Receipt]:
    """Receipts of the numbers the carrier has reported on (SendStatus 2 or 3) of one BizId."""
    receipts = []
    for n, item in enumerate(details):
        where = f"SmsSendDetailDTO[{n}]"
        status = item.get("SendStatus")
        if status not in (2, 3, "2", "3"):
            continue  # 1: still waiting for the carrier
        delivered = str(status) == "3"
        code = _text(item, "ErrCode", where, required=False) or ("DELIVERED" if delivered else "")
        key = _text(item, "OutId", where, required=False)
        receipts.append(Receipt(key, biz_id, delivered, code, _time(item, "ReceiveDate", where)))
    return receipts


def from_tencent_pull(items: Sequence[Mapping[str, Any]]) -> list[Receipt]:
    fields = ("ReportStatus", "SerialNo", "Description", "UserReceiveTime")
    return _tencent(items, "PullSmsSendStatusSet", fields)


def _tencent(
    items: Iterable[Mapping[str, Any]], where: str, fields: tuple[str, str, str, str]
) -> list[Receipt]:
    """Tencent's status reports, pushed (snake_case) or pulled (PascalCase): same meaning."""
    status_key, serial_key, text_key, time_key = fields
    receipts = []
    for n, item in enumerate(items):
        at = f"{where}[{n}]"
        status = _text(item, status_key, at, required=True)
        if status not in ("SUCCESS", "FAIL"):
            raise BadPayload(f"{at}.{status_key}: must be SUCCESS or FAIL")
        receipts.append(
            Receipt(
                None,
                _text(item, serial_key, at, required=True),
                status == "SUCCESS",
                _text(item, text_key, at, required=False) or status,
                _time(item, time_key, at),
            )
        )
    return receipts


@dataclass(frozen=True)
class ReceiptFormat:
    """How one provider pushes receipts and what it expects back."""

    provider: str
    env: str  # OMNIREACH_<env>_CALLBACK_SECRET
    parse: Callable[[Any], list[Receipt]]
    ok: dict[str, Any]


FORMATS = {
    "aliyun": ReceiptFormat("aliyun", "ALIYUN_SMS", parse_aliyun, {"code": 0, "msg": "接收成功"}),
    "tencent": ReceiptFormat(
        "tencent", "TENCENT_SMS", parse_tencent, {"result": 0, "errmsg": "OK"}
    ),
}
