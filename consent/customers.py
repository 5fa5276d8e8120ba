"""Find the customer an operator names: the retailer's id, a merged-away id, or our id."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.ingest_tables import CustomerAlias
from models.tables import Customer
from privacy.blind_index import blind_index

ERASED_PREFIX = "erased:"


def erased_external_id(external_id: str) -> str:
    """What an erased customer's retailer id becomes: a keyed hash, so `forget` stays idempotent
    and a re-import of the id makes a new profile instead of refilling the erased one."""
    return ERASED_PREFIX + (blind_index("external_id", external_id) or "")[:56]


def resolve_customer(session: Session, ref: str) -> int | None:
    """The internal id for `ref` (retailer id first, then merge alias, then internal id)."""
    ref = ref.strip()
    if not ref:
        return None
    by_external = select(Customer.id).where(
        Customer.external_id.in_([ref, erased_external_id(ref)])
    )
    found = session.execute(by_external).scalar()
    if found is None:
        alias = select(CustomerAlias.customer_id).where(CustomerAlias.external_id == ref)
        found = session.execute(alias).scalar()
    if found is None and ref.isdigit():
        found = session.execute(select(Customer.id).where(Customer.id == int(ref))).scalar()
    return found
