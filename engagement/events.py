"""The kinds of message events, and one event before it is stored.

The dedupe key is the event's natural identity (what makes a redelivered callback the same
event), hashed so any length of parts fits the column. Most events can happen once per send
and type (a receipt, the first open, a call result); clicks add the link, WeChat subscription
events the account, template and the push's timestamp.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    DELIVERED = "delivered"
    FAILED_DELIVERY = "failed_delivery"
    OPENED = "opened"
    CLICKED = "clicked"
    REPLIED = "replied"
    UNSUBSCRIBED = "unsubscribed"
    SUBSCRIBE_ACCEPTED = "subscribe_accepted"
    SUBSCRIBE_REJECTED = "subscribe_rejected"
    CALL_ANSWERED = "call_answered"
    CALL_REFUSED = "call_refused"
    CALL_NO_ANSWER = "call_no_answer"
    GUIDE_CONFIRMED = "guide_confirmed"
    GUIDE_NOT_SENT = "guide_not_sent"


def dedupe_key(*parts: object) -> str:
    """A fixed-length key for the parts that identify one event."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


@dataclass(frozen=True)
class Link:
    """The send an event belongs to."""

    planned_send_id: int
    campaign_id: str
    customer_id: int
    channel: str


@dataclass(frozen=True)
class NewEvent:
    """An event ready to store. `detail` holds provider codes only, never PII."""

    event_type: EventType
    provider: str
    occurred_at: datetime
    link: Link | None
    channel: str
    key_parts: tuple[object, ...] = ()
    customer_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def for_send(
        cls,
        link: Link,
        event_type: EventType,
        provider: str,
        occurred_at: datetime,
        *extra_key: object,
        detail: dict[str, Any] | None = None,
    ) -> NewEvent:
        """An event of a send; stored once per (send, type, extra_key)."""
        return cls(
            event_type,
            provider,
            occurred_at,
            link,
            link.channel,
            (event_type.value, link.planned_send_id, *extra_key),
            link.customer_id,
            detail or {},
        )

    def row(self, received_at: datetime) -> dict[str, Any]:
        return {
            "dedupe_key": dedupe_key(*self.key_parts),
            "event_type": self.event_type.value,
            "channel": self.channel,
            "provider": self.provider[:32],
            "campaign_id": self.link.campaign_id if self.link else None,
            "planned_send_id": self.link.planned_send_id if self.link else None,
            "customer_id": self.link.customer_id if self.link else self.customer_id,
            "occurred_at": self.occurred_at,
            "received_at": received_at,
            "detail": self.detail,
        }
