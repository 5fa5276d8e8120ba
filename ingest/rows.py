"""Turn one raw row of each kind into a staging record, its flags, or its field errors.

PII is encrypted and blind-indexed here, right after validation, so plaintext never reaches
the database, a log or the reject file (which masks what it shows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar, cast, get_args

from ingest import parse
from ingest.country import country_of
from ingest.parse import FieldError
from models.audience import EventType
from models.consent_terms import CHANNELS, CLOCK_SKEW, INVALID_CONSENT_SOURCES, PURPOSES
from privacy.blind_index import blind_index
from privacy.cipher import encrypt

EVENT_TYPES = frozenset(get_args(EventType))
T = TypeVar("T")


@dataclass(slots=True)
class Parsed:
    """A valid row: its staging record, the key that identifies it, flags and manual tags, and
    the retailer's id (column, value) that a file may hold only once."""

    line: int
    record_key: str
    customer_ref: str
    record: dict[str, Any]
    flags: list[tuple[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    unique: tuple[str, str] | None = None


def _collector() -> tuple[Callable[..., Any], list[FieldError]]:
    """A caller of parsers that keeps every field error (so a row reports all its problems at
    once), and the list it keeps them in. A closure: it runs for every field of every row."""
    errors: list[FieldError] = []

    def call(fn: Callable[..., T], *args: Any) -> T | None:
        try:
            return fn(*args)
        except FieldError as exc:
            errors.append(exc)
            return None

    return call, errors


def _until(field: str, value: str | None, now: datetime) -> datetime:
    """A required timestamp no later than `now` plus CLOCK_SKEW (orders, events, consents)."""
    moment = cast(datetime, parse.moment(field, value, parse.SHANGHAI, True))  # required
    if moment > now + CLOCK_SKEW:
        raise FieldError(
            field,
            value,
            f"in the future (more than {CLOCK_SKEW.seconds // 60} minutes after the import time)",
        )
    return moment


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def customer(line: int, v: dict[str, str | None], now: datetime) -> Parsed | list[FieldError]:
    f, errors = _collector()
    ext = f(parse.text, "customer_id", v.get("customer_id"), 64, True)
    name = f(parse.text, "name", v.get("name"), 100)
    phone = f(parse.phone, v.get("phone"))
    email = f(parse.email, v.get("email"))
    address = f(parse.text, "address", v.get("address"), 300)
    born = f(parse.day, "birthday", v.get("birthday"))
    zone = f(parse.zone, v.get("timezone")) or parse.SHANGHAI
    plain: dict[str, Any] = {
        c: f(parse.text, c, v.get(c), n)
        for c, n in (
            ("city", 64),
            ("district", 64),
            ("member_level", 32),
            ("home_store", 64),
            ("device_id", 128),
            ("wechat_openid", 128),
        )
    }
    tags = [
        f(parse.text, "tags", t.strip(), 64) for t in (v.get("tags") or "").split(";") if t.strip()
    ]
    record: dict[str, Any] = {
        "line": line,
        "external_id": ext,
        "gender": f(parse.gender, v.get("gender")),
        "birth_year": born.year if born else None,
        "timezone": zone.key,
        "country": country_of(phone, address),
        "registered_at": f(parse.moment, "registered_at", v.get("registered_at"), zone),
        **plain,
    }
    if errors:
        return errors
    record.update(
        name_enc=encrypt(name, "name"),
        phone_enc=encrypt(phone, "phone"),
        email_enc=encrypt(email, "email"),
        address_enc=encrypt(address, "address"),
        phone_index=blind_index("phone", phone),
        email_index=blind_index("email", email),
    )
    parsed = Parsed(
        line,
        record["external_id"],
        record["external_id"],
        record,
        tags=sorted({t for t in tags if t}),
        unique=("customer_id", ext),
    )
    today = now.date()
    if born and born > today:
        parsed.flags.append(("birthday_in_future", "birthday is after the import date"))
    elif born and _age(born, today) > 120:
        parsed.flags.append(("age_over_120", "birthday gives an age over 120"))
    if record["registered_at"] and record["registered_at"] > now:
        parsed.flags.append(("registered_in_future", "registered_at is after the import time"))
    return parsed


def order(line: int, v: dict[str, str | None], now: datetime) -> Parsed | list[FieldError]:
    f, errors = _collector()
    record: dict[str, Any] = {
        "line": line,
        "external_id": f(parse.text, "order_id", v.get("order_id"), 64, True),
        "customer_ref": f(parse.text, "customer_id", v.get("customer_id"), 64, True),
        "ordered_at": f(_until, "ordered_at", v.get("ordered_at"), now),
        "amount": f(parse.amount, "amount", v.get("amount")),
        "category": f(parse.text, "category", v.get("category"), 64),
        "store": f(parse.text, "store", v.get("store"), 64),
    }
    if errors:
        return errors
    record["record_key"] = record["external_id"]
    return Parsed(
        line,
        record["external_id"],
        record["customer_ref"],
        record,
        unique=("order_id", record["external_id"]),
    )


def event(line: int, v: dict[str, str | None], now: datetime) -> Parsed | list[FieldError]:
    f, errors = _collector()
    record: dict[str, Any] = {
        "line": line,
        "event_key": f(parse.text, "event_id", v.get("event_id"), 128),
        "customer_ref": f(parse.text, "customer_id", v.get("customer_id"), 64, True),
        "event_type": f(parse.choice, "event_type", v.get("event_type"), EVENT_TYPES),
        "occurred_at": f(_until, "occurred_at", v.get("occurred_at"), now),
        "channel": f(parse.text, "channel", v.get("channel"), 32),
    }
    if errors:
        return errors
    key = record["event_key"]
    record["record_key"] = key or "|".join(
        (record["customer_ref"], record["event_type"], record["occurred_at"].isoformat())
    )
    return Parsed(
        line,
        record["record_key"],
        record["customer_ref"],
        record,
        unique=("event_id", key) if key else None,
    )


def consent(line: int, v: dict[str, str | None], now: datetime) -> Parsed | list[FieldError]:
    f, errors = _collector()
    record: dict[str, Any] = {
        "line": line,
        "customer_ref": f(parse.text, "customer_id", v.get("customer_id"), 64, True),
        "channel": f(parse.choice, "channel", v.get("channel"), CHANNELS),
        "purpose": f(parse.choice, "purpose", v.get("purpose"), PURPOSES),
        "granted": f(parse.boolean, "granted", v.get("granted"), True),
        "source": f(parse.text, "source", v.get("source"), 64, True),
        "wording_version": f(parse.text, "wording_version", v.get("wording_version"), 32),
        "recorded_at": f(_until, "recorded_at", v.get("recorded_at"), now),
    }
    pre_ticked = f(parse.boolean, "pre_ticked", v.get("pre_ticked"))
    if errors:
        return errors
    record["record_key"] = "|".join(
        (
            record["customer_ref"],
            record["channel"],
            record["purpose"],
            record["recorded_at"].isoformat(),
        )
    )
    parsed = Parsed(line, record["record_key"], record["customer_ref"], record)
    if record["granted"] and (pre_ticked or record["source"].lower() in INVALID_CONSENT_SOURCES):
        record["granted"] = False
        parsed.flags.append(
            (
                "consent_not_valid",
                "pre-ticked or bundled consent is not valid "
                "consent (CN-25); recorded as not granted",
            )
        )
    return parsed


PARSERS: dict[str, Callable[[int, dict[str, str | None], datetime], Parsed | list[FieldError]]] = {
    "customers": customer,
    "orders": order,
    "events": event,
    "consents": consent,
}
