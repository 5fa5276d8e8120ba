"""One customer's profile as operators may see it (PII masked), and the profile export."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.ledger import current_consents
from content.neutralize import csv_cell
from models.tables import Customer, CustomerProfile, CustomerTag
from privacy.cipher import decrypt
from privacy.masking import mask_address, mask_email, mask_name, mask_phone
from profiles.freshness import last_refresh
from profiles.refresh import refresh_profiles
from profiles.tags import profile_tags

EXPORT_COLUMNS = (
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "segment",
    "lifecycle",
    "best_hour",
)


def customer_view(session: Session, customer_id: int) -> dict[str, Any]:
    """Tags, RFM, lifecycle, consents and best hour; names and addresses masked."""
    c = session.get(Customer, customer_id)
    if c is None:
        raise LookupError(f"no customer with id {customer_id}")
    p = session.get(CustomerProfile, customer_id)
    tags = session.execute(
        select(CustomerTag.tag, CustomerTag.source)
        .where(CustomerTag.customer_id == customer_id)
        .order_by(CustomerTag.tag)
    ).all()
    consents = current_consents(session, customer_id)
    refreshed = last_refresh(session)
    return {
        "customer_id": c.external_id,
        "internal_id": c.id,
        "name": mask_name(decrypt(c.name_enc, "name")),
        "phone": mask_phone(decrypt(c.phone_enc, "phone")),
        "email": mask_email(decrypt(c.email_enc, "email")),
        "address": mask_address(decrypt(c.address_enc, "address")),
        "city": c.city,
        "member_level": c.member_level,
        "home_store": c.home_store,
        "timezone": c.timezone,
        "erased": c.erased_at is not None,
        "rfm": None
        if p is None
        else {
            "as_of": None if refreshed is None else refreshed.isoformat(),
            "recency_days": p.recency_days,
            "frequency": p.frequency,
            "monetary": str(p.monetary),
            "scores": [p.r_score, p.f_score, p.m_score],
            "segment": p.segment,
        },
        "lifecycle": None if p is None else p.lifecycle,
        "best_hour": None if p is None else p.best_hour,
        "preferred_channel": None if p is None else p.preferred_channel,
        "tags": sorted(
            [{"tag": t, "source": s} for t, s in tags]
            + [{"tag": t, "source": "data"} for t in profile_tags(p)],
            key=lambda t: (t["tag"], t["source"]),
        ),
        "consents": {
            f"{ch}/{purpose}": granted for (ch, purpose), granted in sorted(consents.items())
        },
    }


def _rows(session: Session) -> Iterator[tuple[Any, ...]]:
    query = (
        select(
            Customer.external_id,
            CustomerProfile.recency_days,
            CustomerProfile.frequency,
            CustomerProfile.monetary,
            CustomerProfile.r_score,
            CustomerProfile.f_score,
            CustomerProfile.m_score,
            CustomerProfile.segment,
            CustomerProfile.lifecycle,
            CustomerProfile.best_hour,
        )
        .join(CustomerProfile, CustomerProfile.customer_id == Customer.id)
        .order_by(Customer.id)
        .execution_options(yield_per=10_000)
    )
    yield from session.execute(query)


def export_profiles(session: Session, path: Path, as_of: datetime) -> int:
    """Refresh profiles as of `as_of` and write one CSV row per customer; returns rows written.
    Cells go through csv_cell: the customer id is the retailer's text and may hold a formula."""
    refresh_profiles(session, as_of)
    written = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(EXPORT_COLUMNS)
        for row in _rows(session):
            out.writerow([csv_cell("" if v is None else v) for v in row])
            written += 1
    return written
