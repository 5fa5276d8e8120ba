"""The one interface every channel adapter implements.

Adapters know nothing of Temporal or the database: they get a batch of rendered messages and
return one result per message, classified so the send engine knows what to do next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Outcome(StrEnum):
    """What happened to one message at the provider."""

    SENT = "sent"  # accepted by the provider
    RETRYABLE = "retryable"  # timeout, 5xx: try again later with backoff
    RATE_LIMITED = "rate_limited"  # 429 / provider flow control: defer
    PERMANENT = "permanent"  # invalid number, bad template: never retry
    OPTED_OUT = "opted_out"  # provider says the recipient unsubscribed: suppress
    HALTED = "halted"  # never offered: an operator paused or cancelled first; planned again


@dataclass(frozen=True)
class OutboundMessage:
    """One rendered message for one customer. `address` is PII and must never be logged."""

    idempotency_key: str
    campaign_id: str
    customer_id: int
    channel: str
    address: str
    template: str
    body: str
    subject: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    marketing: bool = True


@dataclass(frozen=True)
class SendResult:
    """The provider's answer for one message."""

    idempotency_key: str
    outcome: Outcome
    provider_message_id: str | None = None
    error_code: str | None = None
    detail: str | None = None
    retry_after: float | None = None


class Channel(Protocol):
    """A provider adapter: sends a batch, returns one result per message, in order."""

    name: str

    async def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]: ...
