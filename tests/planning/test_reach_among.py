"""A batch of customers reaching a journey's send step reads only its own consent history,
and decides exactly as the whole-base pass does."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from audience.reach import granted_masks
from models.tables import Customer
from tests.profiles.seed import consent, customer


def test_a_batch_reads_its_own_ledger_and_decides_as_the_whole_base(session: Session) -> None:
    for cid in (1, 2, 3, 4):
        customer(session, cid, phone_enc=b"p")
    consent(session, 1, "sms")
    consent(session, 1, "email")
    consent(session, 2, "sms")
    consent(session, 2, "sms", granted=False)  # the latest event decides: refused
    consent(session, 4, "sms")  # not in the batch
    batch = select(Customer.id).where(Customer.id.in_([1, 2, 3]))

    def masks(among: Select[int] | None) -> dict[int, int]:
        rows = session.execute(granted_masks(["sms", "email"], among=among))
        return {r.customer_id: r.mask for r in rows}

    assert masks(batch) == {1: 0b11}
    assert masks(None) == {1: 0b11, 4: 0b01}
