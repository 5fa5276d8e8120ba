"""The columns each import kind accepts (CSV header names, or JSON-lines keys).

customers   customer_id* (the retailer's id), name, phone (mainland mobile, optional +86,
            spaces, dashes; or another country's with + or 00), email, gender (M/F/男/女), birthday (YYYY-MM-DD), city, district,
            address, member_level, home_store, registered_at (ISO 8601), timezone (IANA, default
            Asia/Shanghai), device_id, wechat_openid, tags (manual tags separated by ';')
orders      order_id*, customer_id*, ordered_at*, amount* (decimal ≥ 0, at most 2 places),
            category, store
events      customer_id*, event_type* (an EventType of models.audience), occurred_at*,
            channel, event_id (the retailer's id of the event, makes re-imports exact)
consents    customer_id*, channel* (a ChannelName of models.audience), purpose*
            (marketing/service/profiling), granted* (true/false), source*, wording_version,
            recorded_at*, pre_ticked (true/false)

* must be in the header (its value may still be rejected per row). Other columns may be left
out; a column that is not listed makes the file fail, so a misnamed column ("mobile" for
"phone") is never silently dropped. Names are matched case-insensitively. See FORMATS.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Kind = Literal["customers", "orders", "events", "consents"]
KINDS: tuple[Kind, ...] = get_args(Kind)


@dataclass(frozen=True)
class KindColumns:
    """Header columns of one kind: those that must be present and those that may be."""

    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def all(self) -> frozenset[str]:
        return frozenset(self.required + self.optional)


COLUMNS: dict[Kind, KindColumns] = {
    "customers": KindColumns(
        ("customer_id",),
        (
            "name",
            "phone",
            "email",
            "gender",
            "birthday",
            "city",
            "district",
            "address",
            "member_level",
            "home_store",
            "registered_at",
            "timezone",
            "device_id",
            "wechat_openid",
            "tags",
        ),
    ),
    "orders": KindColumns(
        ("order_id", "customer_id", "ordered_at", "amount"), ("category", "store")
    ),
    "events": KindColumns(("customer_id", "event_type", "occurred_at"), ("channel", "event_id")),
    "consents": KindColumns(
        ("customer_id", "channel", "purpose", "granted", "source", "recorded_at"),
        ("wording_version", "pre_ticked"),
    ),
}


def likely_kind(names: set[str]) -> Kind | None:
    """The kind whose required columns a header holds, to hint at a file given as the wrong kind."""
    for kind in KINDS:
        spec = COLUMNS[kind]
        if set(spec.required) <= names and names <= spec.all:
            return kind
    return None
