"""An operator's pause or cancel, as the send passes see it: a flag on the campaign row that the
workflow sets the moment the signal arrives and every pass reads before each provider call, so
sends already in flight stop within seconds on every worker, at any rate limit."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from db.engine import session_scope
from models.tables import Campaign

HALTS = ("pause", "cancel")


def set_halt(session: Session, campaign_id: str, halt: str | None) -> None:
    """Stop (`pause`, `cancel`) or let go (None) the campaign's sends."""
    if halt is not None and halt not in HALTS:
        raise ValueError(f"send halt must be one of {HALTS} or None, not {halt!r}")
    session.execute(update(Campaign).where(Campaign.id == campaign_id).values(send_halt=halt))


def read_halt(session: Session, campaign_id: str) -> str | None:
    return session.execute(
        select(Campaign.send_halt).where(Campaign.id == campaign_id)
    ).scalar_one_or_none()


class HaltWatch:
    """Asked before every provider call of one pass; once halted, stays halted for the pass.
    The flag is read at most once per `every` seconds (a read per provider call cost about 3 %
    of the send rate), well inside the 5 s in which a pause or cancel must stop sends."""

    def __init__(self, engine: Engine, campaign_id: str, every: float = 0.5) -> None:
        self._engine = engine
        self._campaign_id = campaign_id
        self._every = every
        self._next_read = 0.0
        self.halt: str | None = None

    def _read(self) -> str | None:
        with session_scope(self._engine) as session:
            return read_halt(session, self._campaign_id)

    async def stopped(self) -> bool:
        if self.halt is None and time.monotonic() >= self._next_read:
            self._next_read = time.monotonic() + self._every
            self.halt = await asyncio.to_thread(self._read)
        return self.halt is not None
