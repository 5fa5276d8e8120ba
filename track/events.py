"""Validate one posted batch of events, each on its own: a bad event names its index, field,
value and reason, and the others are kept.

An event is checked by the file import's own row parser (ingest.rows.event: same types, same
customer reference, same clock-skew rule), with `event_id` required here, since it is what makes
a re-sent event a duplicate. Properties are a JSON object of at most MAX_PROPERTIES bytes; the
PII among them (the import's PII fields, validated as the import does, and any property whose
text holds a phone number or email) is encrypted into one ciphertext, the rest kept readable for
filters. Reasons never contain values; values shown are masked as the import's reject file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ingest import parse
from ingest.parse import FieldError
from ingest.rejects import shown
from ingest.rows import event as import_event
from models.track_tables import EVENT_PII_FIELD
from privacy.cipher import encrypt
from privacy.masking import holds_contact

MAX_EVENTS = 1000
MAX_PROPERTIES = 4096
FIELDS = ("event_id", "customer_id", "event_type", "occurred_at", "channel")
# The import's PII fields, each checked by the parser the customer import uses.
PII_PARSERS = {
    "name": lambda v: parse.text("name", v, 100),
    "phone": parse.phone,
    "email": parse.email,
    "address": lambda v: parse.text("address", v, 300),
}


class BadBatch(ValueError):
    """The body as a whole is unusable (not JSON, no events array, too many events)."""


@dataclass(frozen=True, slots=True)
class Problem:
    index: int
    field: str
    value: str
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Event:
    """A valid event, ready to store (`pii_enc` already encrypted)."""

    index: int
    event_id: str
    customer_ref: str
    event_type: str
    occurred_at: datetime
    channel: str | None
    properties: dict[str, Any] | None
    pii_enc: bytes | None


def batch_items(body: bytes) -> list[Any]:
    """The `events` array of a body `{"events": [...]}`."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadBatch("body is not JSON") from None
    events = doc.get("events") if isinstance(doc, dict) else None
    if not isinstance(events, list) or not events:
        raise BadBatch('expected {"events": [...]} with at least one event')
    if len(events) > MAX_EVENTS:
        raise BadBatch(f"at most {MAX_EVENTS} events per request, got {len(events)}")
    return events


def _strings(index: int, item: dict[str, Any], problems: list[Problem]) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for name in FIELDS:
        value = item.get(name)
        if value is None or isinstance(value, str):
            values[name] = value
        else:
            problems.append(Problem(index, name, shown(name, str(value)), "must be a string"))
    if "event_id" in values and values["event_id"] is None:
        problems.append(Problem(index, "event_id", "", "required value is missing"))
    return values


def _properties(
    index: int, raw: Any, problems: list[Problem]
) -> tuple[dict[str, Any] | None, bytes | None]:
    """(readable properties, encrypted PII) of one event."""
    if raw is None:
        return None, None
    if not isinstance(raw, dict):
        problems.append(Problem(index, "properties", "", "must be a JSON object"))
        return None, None
    text = json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
    size = len(text.encode())
    if size > MAX_PROPERTIES:
        problems.append(
            Problem(index, "properties", "", f"larger than {MAX_PROPERTIES} bytes ({size})")
        )
        return None, None
    if not PII_PARSERS.keys() & raw.keys() and not holds_contact(text):
        return raw or None, None  # the usual event: nothing to look at key by key
    plain: dict[str, Any] = {}
    pii: dict[str, Any] = {}
    for key, value in raw.items():
        check = PII_PARSERS.get(key)
        if check is not None:
            try:
                if not isinstance(value, str):
                    raise FieldError(key, None, "must be a string")
                pii[key] = check(value)
            except FieldError as exc:
                problems.append(
                    Problem(index, f"properties.{key}", shown(key, exc.value), exc.reason)
                )
            continue
        found = holds_contact(key) or holds_contact(json.dumps(value, ensure_ascii=False))
        (pii if found else plain)[key] = value
    sealed = encrypt(json.dumps(pii, ensure_ascii=False), EVENT_PII_FIELD) if pii else None
    return plain or None, sealed


def validate(index: int, item: Any, now: datetime) -> Event | list[Problem]:
    """One posted event: the Event to store, or every problem it has."""
    if not isinstance(item, dict):
        return [Problem(index, "", "", "an event must be a JSON object")]
    problems: list[Problem] = []
    values = _strings(index, item, problems)
    unknown = sorted(set(item) - set(FIELDS) - {"properties"})
    problems.extend(  # a sender's key is shown as a value would be: scrubbed and shortened
        Problem(index, shown("", name), "", "unknown field (properties go under `properties`)")
        for name in unknown
    )
    properties, pii_enc = _properties(index, item.get("properties"), problems)
    parsed = import_event(index, values, now)
    if isinstance(parsed, list):
        named = {p.field for p in problems}  # a value of the wrong type is not also "missing"
        problems.extend(
            Problem(index, e.field, shown(e.field, e.value), e.reason)
            for e in parsed
            if e.field not in named
        )
    if problems or isinstance(parsed, list):
        return problems
    record = parsed.record
    return Event(
        index=index,
        event_id=record["event_key"],
        customer_ref=record["customer_ref"],
        event_type=record["event_type"],
        occurred_at=record["occurred_at"],
        channel=record["channel"],
        properties=properties,
        pii_enc=pii_enc,
    )
