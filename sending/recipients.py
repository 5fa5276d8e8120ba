"""Who the claimed sends go to: contact data, time zone and template variables, per send."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from db.among import among
from models.tables import Customer
from privacy.cipher import decrypt

ADDRESS_FIELD = {
    "sms": "phone",
    "outbound_call": "phone",
    "email": "email",
    "wechat_oa": "wechat_openid",
    "wechat_mini": "wechat_openid",
    "wecom": "wechat_openid",
    "alipay": "device_id",
    "app_push": "device_id",
    "webhook": "external_id",
    "sandbox": "phone",
}
# Only what a message needs: loading whole customer entities costs more than the send itself.
_COLUMNS = [
    getattr(Customer, name)
    for name in (
        "id",
        "erased_at",
        "timezone",
        "name_enc",
        "gender",
        "member_level",
        "city",
        "home_store",
        "phone_enc",
        "email_enc",
        "wechat_openid",
        "device_id",
        "external_id",
    )
]


@dataclass(frozen=True)
class Recipient:
    customer_id: int
    timezone: str
    address: str | None
    variables: dict[str, str]


def _honorific(name: str | None, gender: str | None) -> str:
    if not name:
        return "顾客"
    title = {"F": "女士", "M": "先生"}.get(gender or "", "")
    return name[0] + title if title else name[0] + "**"


def _address(customer: Row[Any], channel: str) -> str | None:
    field = ADDRESS_FIELD.get(channel, "phone")
    if field == "phone":
        return decrypt(customer.phone_enc, "phone") or decrypt(customer.email_enc, "email")
    if field == "email":
        return decrypt(customer.email_enc, "email")
    return getattr(customer, field)


def load_recipients(
    session: Session, wanted: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], Recipient]:
    """Contact data for (customer, channel) pairs, decrypted only for the message itself."""
    ids = sorted({cid for cid, _ in wanted})
    customers = {
        c.id: c for c in session.execute(select(*_COLUMNS).where(among(session, Customer.id, ids)))
    }
    out: dict[tuple[int, str], Recipient] = {}
    for cid, channel in wanted:
        customer = customers.get(cid)
        if customer is None or customer.erased_at is not None:
            continue
        name = decrypt(customer.name_enc, "name")
        out[(cid, channel)] = Recipient(
            customer_id=cid,
            timezone=customer.timezone,
            address=_address(customer, channel),
            variables={
                "honorific": _honorific(name, customer.gender),
                "member_level": customer.member_level or "",
                "city": customer.city or "",
                "home_store": customer.home_store or "",
            },
        )
    return out
