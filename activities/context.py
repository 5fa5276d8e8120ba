"""What activities share in one worker process: the database engine and the channel registry."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from channels.base import Channel
from db.engine import default_engine
from policy.frequency_cap import CapRules, load_caps
from sending.rate_limit import RateLimiter, parse_limits
from settings import settings


@dataclass
class WorkerContext:
    engine: Engine
    channels: dict[str, Channel] = field(default_factory=dict)
    caps: CapRules = field(default_factory=load_caps)
    limits: dict[str, RateLimiter] = field(
        default_factory=lambda: parse_limits(settings().rate_limits)
    )


_current: WorkerContext | None = None


def configure(ctx: WorkerContext) -> None:
    """Set by worker.py (and by tests) before the worker starts polling."""
    global _current
    _current = ctx


def current() -> WorkerContext:
    global _current
    if _current is None:
        _current = WorkerContext(engine=default_engine())
    return _current
