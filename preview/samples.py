"""A few messages per channel rendered exactly as the send engine would render them (same
variables, the customer's own time zone, the real link base), with PII masked for the screen."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content.local_time import customer_time
from models.spec import CampaignSpec
from models.tables import PlannedSend
from privacy.masking import mask_email, mask_phone, scrub
from sending.claim import Claimed
from sending.deliver import build_message
from sending.recipients import ADDRESS_FIELD, load_recipients
from settings import public_url

PER_CHANNEL = 3


class Sample(BaseModel):
    """One rendered message: channel, masked address, when (customer's local time), text."""

    channel: str
    to: str
    at: str
    subject: str | None
    body: str


def _mask(address: str, channel: str) -> str:
    if ADDRESS_FIELD.get(channel) == "email" or "@" in address:
        return mask_email(address)
    if ADDRESS_FIELD.get(channel) == "phone":
        return mask_phone(address)
    return address[:4] + "****"


def _shown(text: str, link: str) -> str:
    """The signed unsubscribe token is a working opt-out for a real person: not shown."""
    return scrub(text.replace(link, f"{public_url()}/u/…"))


def samples(
    session: Session, campaign_id: str, spec: CampaignSpec, per_channel: int = PER_CHANNEL
) -> list[Sample]:
    """The first `per_channel` planned sends of each channel, rendered and masked."""
    ps = PlannedSend
    rank = func.row_number().over(partition_by=ps.channel, order_by=(ps.scheduled_at, ps.id))
    ranked = select(ps, rank.label("n")).where(ps.campaign_id == campaign_id).subquery()
    rows = session.execute(
        select(ranked).where(ranked.c.n <= per_channel).order_by(ranked.c.channel, ranked.c.n)
    ).all()
    recipients = load_recipients(session, [(r.customer_id, r.channel) for r in rows])
    out: list[Sample] = []
    for r in rows:
        recipient = recipients.get((r.customer_id, r.channel))
        if recipient is None or not recipient.address:
            continue
        claim = Claimed(
            r.id,
            r.customer_id,
            r.channel,
            r.template,
            r.unit_cost,
            r.idempotency_key,
            r.attempts,
            step=r.step,
            variant=r.variant,
        )
        message = build_message(campaign_id, spec, spec.name, claim, recipient)
        when = f"{customer_time(r.scheduled_at, recipient.timezone)} {recipient.timezone}"
        if message is None:
            out.append(
                Sample(
                    channel=r.channel,
                    to=_mask(recipient.address, r.channel),
                    at=when,
                    subject=None,
                    body="(the template cannot render)",
                )
            )
            continue
        link = message.params["unsubscribe_url"]
        out.append(
            Sample(
                channel=r.channel,
                to=_mask(recipient.address, r.channel),
                at=when,
                subject=None if message.subject is None else _shown(message.subject, link),
                body=_shown(message.body, link),
            )
        )
    return out
