"""WeChat server pushes about subscribe messages (official account and mini program), plain-text
mode, XML or JSON (parsing and verification only, no I/O).

Every push carries `signature`, `timestamp` and `nonce` in the query string, with signature =
sha1 of the sorted, concatenated (token, timestamp, nonce); the URL check (GET) adds `echostr`.
Events handled: `subscribe_msg_popup_event` (the user tapped accept/reject on the prompt),
`subscribe_msg_change_event` (the user turned a template off later) and
`subscribe_msg_sent_event` (the result of a send: `MsgID`, `ErrorCode` 0 = delivered). Each
holds a `List` of per-template items; other pushes are acknowledged and ignored. The secure
(encrypted) mode is not handled: configure the account in plain-text mode.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optout.inbound import BadPayload

CONTAINERS = {
    "subscribe_msg_popup_event": "SubscribeMsgPopupEvent",
    "subscribe_msg_change_event": "SubscribeMsgChangeEvent",
    "subscribe_msg_sent_event": "SubscribeMsgSentEvent",
}


def signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def signature_ok(token: str, query: Mapping[str, str]) -> bool:
    """True when the query's signature matches (constant-time compare)."""
    given, timestamp, nonce = (query.get(k, "") for k in ("signature", "timestamp", "nonce"))
    if not (given and timestamp and nonce):
        return False
    return hmac.compare_digest(given.lower().encode(), signature(token, timestamp, nonce).encode())


@dataclass(frozen=True)
class SubscribePush:
    """One push about subscriptions: who (openid), when, what, and the per-template items."""

    openid: str
    create_time: int
    event: str
    items: list[dict[str, str]]


def _xml(body: bytes) -> dict[str, Any]:
    head = body[:2048].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in body.upper():
        raise BadPayload("XML with a DOCTYPE or entities is not accepted")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise BadPayload(f"not well-formed XML ({exc})") from None
    doc: dict[str, Any] = {
        child.tag: (child.text or "").strip() for child in root if len(child) == 0
    }
    for container in root:
        if len(container):
            doc[container.tag] = [
                {field.tag: (field.text or "").strip() for field in entry}
                for entry in container.iter("List")
            ]
    return doc


def _entries(doc: Mapping[str, Any], container: str) -> list[dict[str, str]]:
    raw = doc.get(container, doc.get("List"))
    if isinstance(raw, Mapping):
        raw = raw.get("List", raw)
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(e, Mapping) for e in raw):
        raise BadPayload(f"{container}: expected a List of template items")
    return [{str(k): str(v).strip() for k, v in e.items()} for e in raw]


def parse_push(body: bytes) -> SubscribePush | None:
    """The subscription push in `body`, or None for any other kind of push."""
    text = body.lstrip()
    if text.startswith(b"<"):
        doc = _xml(text)
    else:
        try:
            doc = json.loads(text)
        except ValueError:
            raise BadPayload("body is neither XML nor JSON") from None
        if not isinstance(doc, dict):
            raise BadPayload("expected a JSON object")
    event = str(doc.get("Event", "")).strip()
    if doc.get("MsgType") != "event" or event not in CONTAINERS:
        return None
    openid = str(doc.get("FromUserName", "")).strip()
    try:
        create_time = int(str(doc.get("CreateTime", "")).strip())
    except ValueError:
        raise BadPayload("CreateTime: not a number") from None
    if not openid or len(openid) > 128:
        raise BadPayload("FromUserName: missing or too long")
    return SubscribePush(openid, create_time, event, _entries(doc, CONTAINERS[event]))
