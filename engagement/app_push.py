"""The in-app push-marketing opt-out (CN-23): the app's settings screen turns promotional
pushes off, and the app's backend tells us, so the refusal lands in the consent ledger
(`app_push` / `push_marketing`, source `app_settings`) and stops the next promotional push.

Body: JSON `{"customer_id": "<the retailer's id>", "at": "<ISO 8601 with offset>"}` (`at`
optional: the time it arrives), signed `X-Omnireach-Signature: sha256=<hex HMAC-SHA256(
OMNIREACH_APP_PUSH_CALLBACK_SECRET, raw body)>` as the other relayed callbacks are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.ledger import record_consent
from engagement.handlers import Applied
from models.consent_terms import CLOCK_SKEW
from models.ingest_tables import CustomerAlias
from models.tables import Customer
from optout.apply import UnknownCustomer
from optout.inbound import BadPayload

CHANNEL, PURPOSE, SOURCE = "app_push", "push_marketing", "app_settings"
MAX_ID = 64


@dataclass(frozen=True)
class PushOptOut:
    external_id: str
    at: datetime | None


def parse_opt_out(body: bytes) -> PushOptOut:
    """The request body, or BadPayload naming the field."""
    try:
        doc = json.loads(body)
    except ValueError:
        raise BadPayload("body: not JSON") from None
    if not isinstance(doc, dict):
        raise BadPayload("body: expected a JSON object")
    ref = doc.get("customer_id")
    if not isinstance(ref, str) or not ref.strip() or len(ref) > MAX_ID:
        raise BadPayload(f"customer_id: a string of 1–{MAX_ID} characters is required")
    raw = doc.get("at")
    if raw is None:
        return PushOptOut(ref.strip(), None)
    try:
        at = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise BadPayload("at: an ISO 8601 time with its UTC offset is required")
    return PushOptOut(ref.strip(), at)


def _customer(session: Session, external_id: str) -> int:
    found = (
        session.execute(select(Customer.id).where(Customer.external_id == external_id)).scalar()
        or session.execute(
            select(CustomerAlias.customer_id).where(CustomerAlias.external_id == external_id)
        ).scalar()
    )
    if found is None:
        raise UnknownCustomer(external_id)
    return found


def apply_push_opt_out(session: Session, item: PushOptOut, now: datetime) -> Applied:
    """Record the refusal (dated when the customer made it, never later than now)."""
    if item.at is not None and item.at > now + CLOCK_SKEW:
        raise BadPayload(f"at: {item.at.isoformat()} is in the future")
    at = min(item.at, now) if item.at is not None else now
    record_consent(
        session,
        customer_id=_customer(session, item.external_id),
        channel=CHANNEL,
        purpose=PURPOSE,
        granted=False,
        source=SOURCE,
        wording_version=None,
        at=at,
    )
    return Applied(stored=1)
