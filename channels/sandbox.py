"""The sandbox channel: records every message in the `sandbox_outbox` table instead of sending.

It behaves like a provider that dedupes on the idempotency key, so the demo and the tests can
count exactly what was "sent" and prove that nothing went out twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine

from channels.base import OutboundMessage, Outcome, SendResult
from db.engine import session_scope
from db.upsert import insert_ignore
from models.tables import SandboxOutbox
from privacy.cipher import encrypt


class SandboxChannel:
    def __init__(self, engine: Engine, name: str = "sandbox") -> None:
        self.name = name
        self._engine = engine

    async def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        await asyncio.to_thread(self._store, messages)
        return [
            SendResult(
                m.idempotency_key, Outcome.SENT, provider_message_id=f"sbx-{m.idempotency_key}"
            )
            for m in messages
        ]

    def _store(self, messages: Sequence[OutboundMessage]) -> None:
        now = datetime.now(UTC)
        rows = [
            {
                "idempotency_key": m.idempotency_key,
                "campaign_id": m.campaign_id,
                "customer_id": m.customer_id,
                "channel": m.channel,
                "address_enc": encrypt(m.address, "address_outbox"),
                "subject": m.subject,
                "body": m.body,
                "received_at": now,
            }
            for m in messages
        ]
        with session_scope(self._engine) as session:
            insert_ignore(session, SandboxOutbox.__table__, rows, ["idempotency_key"])
