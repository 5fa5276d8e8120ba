"""Shared by the consent, opt-out, governance and erasure tests: a real PostgreSQL database
with the whole schema (create_all, including the governance and importer tables) and a
customer factory that stores PII the way the importer does (ciphertext + blind index)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import models.governance_tables  # noqa: F401  (registers user_roles)
import models.ingest_tables  # noqa: F401  (registers the importer's tables)
from consent.ledger import record_consent
from db.engine import make_engine
from models.tables import Base, Customer
from policy.consent import contactable
from privacy.blind_index import blind_index
from privacy.cipher import encrypt
from tests.conftest import create_database, drop_database

NOW = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


@contextmanager
def fresh_database() -> Iterator[tuple[Engine, str]]:
    """A new database with every table (engine and URL), dropped on the way out."""
    url = create_database("omni_gov")
    made = make_engine(url)
    Base.metadata.create_all(made)
    try:
        yield made, url
    finally:
        made.dispose()
        drop_database(url)


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """One database for a test folder; tests make their own customers with unique phones."""
    with fresh_database() as (made, _):
        yield made


def unique_phone() -> str:
    return "139" + str(uuid.uuid4().int % 10**8).zfill(8)


def make_customer(
    session: Session,
    *,
    phone: str | None = None,
    email: str | None = None,
    name: str = "张三丰",
    grant: tuple[str, ...] = ("sms", "email"),
) -> Customer:
    """A customer with encrypted PII and marketing consent on `grant` channels."""
    phone = phone or unique_phone()
    email = email or f"u{uuid.uuid4().hex[:8]}@example.com"
    customer = Customer(
        external_id=f"ext-{uuid.uuid4().hex[:12]}",
        name_enc=encrypt(name, "name"),
        phone_enc=encrypt(phone, "phone"),
        email_enc=encrypt(email, "email"),
        address_enc=encrypt("上海市静安区南京西路1号", "address"),
        phone_index=blind_index("phone", phone),
        email_index=blind_index("email", email),
        device_id=f"dev-{uuid.uuid4().hex[:8]}",
        wechat_openid=f"o-{uuid.uuid4().hex[:8]}",
        gender="f",
        birth_year=1990,
        city="上海",
        member_level="gold",
        registered_at=NOW,
    )
    session.add(customer)
    session.flush()
    for channel in grant:
        record_consent(
            session,
            customer_id=customer.id,
            channel=channel,
            purpose="marketing",
            granted=True,
            source="app_signup",
            wording_version="v3",
            at=NOW,
        )
    return customer


def is_contactable(session: Session, customer_id: int, channel: str) -> bool:
    query = select(Customer.id).where(Customer.id == customer_id, contactable(channel))
    return session.execute(query).first() is not None
