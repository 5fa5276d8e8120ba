"""Heartbeats from the side while an activity's real work runs, so a worker that dies is
noticed within the heartbeat timeout and the activity retried on another worker, instead of
after its start-to-close timeout (long set-based statements have no natural place to beat)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from temporalio import activity

EVERY_SECONDS = 5.0  # well inside the workflows' heartbeat timeouts (20–30 s)


@contextmanager
def heartbeating(every: float = EVERY_SECONDS) -> Iterator[None]:
    """For sync activities: a side thread heartbeats until the block ends."""
    stop = threading.Event()
    ctx = contextvars.copy_context()

    def beat() -> None:
        while not stop.wait(every):
            ctx.run(activity.heartbeat)

    thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@asynccontextmanager
async def heartbeating_async(every: float = EVERY_SECONDS) -> AsyncIterator[None]:
    """For async activities: a side task heartbeats, also while the work waits on a limiter."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(every)
            activity.heartbeat()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
