"""A batch of customers reaching a journey's send step reads only its own consent history,
and decides exactly as the whole-base pass does."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from audience.reach import contactable
from models.tables import Customer
from tests.profiles.seed import consent, customer


def test_a_batch_reads_its_own_ledger_and_decides_as_the_whole_base(session: Session) -> None:
    for cid in (1, 2, 3, 4):
        customer(session, cid, phone_enc=b"p")
    consent(session, 1, "sms")
    consent(session, 2, "sms")
    consent(session, 2, "sms", granted=False)  # the latest event decides: refused
    consent(session, 4, "sms")
    batch = select(Customer.id).where(Customer.id.in_([1, 2, 3]))

    def reached(among: Select[int] | None) -> set[int]:
        rows = session.execute(
            select(Customer.id).where(Customer.id.in_([1, 2, 3]), contactable("sms", among=among))
        )
        return set(rows.scalars())

    assert reached(batch) == reached(None) == {1}
    compiled = str(contactable("sms", among=batch).compile())
    assert "consent_events.customer_id IN" in compiled  # the ledger pass is the batch's only
    assert "consent_events.customer_id IN" not in str(contactable("sms").compile())
