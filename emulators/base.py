"""What every provider emulator shares: fault injection, the record of accepted deliveries, and
idempotent replay (a repeated idempotency key gets the first answer and is not delivered twice).
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

MAINLAND_PHONE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
Handler = Callable[[Request], Awaitable[Response]]
T = TypeVar("T")


@dataclass(frozen=True)
class Fault:
    status: int | None = None  # answer with this status instead of handling the request
    delay: float = 0.0  # stall first; the request is still handled after (a lost answer)
    retry_after: float | None = None


@dataclass
class FaultPlan:
    """Faults for the next requests, in arrival order, and addresses the provider refuses."""

    pending: deque[Fault] = field(default_factory=deque)
    refused: dict[str, Any] = field(default_factory=dict)  # address → provider code, None: default

    def rate_limit(self, times: int = 1, retry_after: float | None = 1.0) -> None:
        self.pending.extend(Fault(status=429, retry_after=retry_after) for _ in range(times))

    def fail(self, times: int = 1, status: int = 500) -> None:
        self.pending.extend(Fault(status=status) for _ in range(times))

    def stall(self, times: int = 1, seconds: float = 1.0) -> None:
        """Answer late: a client with a shorter timeout gives up although the send happened."""
        self.pending.extend(Fault(delay=seconds) for _ in range(times))

    def refuse(self, address: str, code: Any = None) -> None:
        """The provider rejects this recipient, with its opt-out code unless one is given."""
        self.refused[address] = code

    def next(self) -> Fault | None:
        return self.pending.popleft() if self.pending else None

    def clear(self) -> None:
        self.pending.clear()
        self.refused.clear()


@dataclass(frozen=True)
class Delivery:
    """One message the emulator accepted for delivery."""

    key: str | None  # the idempotency key as the provider saw it (OutId, cid, …)
    address: str
    template: str
    content: dict[str, Any]


class Emulator:
    """Base of the HTTP emulators: a Starlette app whose routes all pass the fault plan first."""

    opt_out_code: Any = None  # what `FaultPlan.refuse` answers by default

    def __init__(self) -> None:
        self.faults = FaultPlan()
        self.deliveries: list[Delivery] = []
        self.traffic: list[tuple[str, int]] = []  # (path, status) of every request answered
        self._replies: dict[str, Any] = {}

    def routes(self) -> list[Route]:
        raise NotImplementedError

    @cached_property
    def app(self) -> Starlette:
        routes = [
            Route(r.path, self._guarded(r.endpoint), methods=r.methods) for r in self.routes()
        ]
        return Starlette(routes=routes)

    def fault_body(self, status: int) -> dict[str, Any]:
        """Body of an injected error; providers override it with their own shape."""
        return {"error": f"injected fault {status}"}

    def fault_headers(self, fault: Fault) -> dict[str, str]:
        """Headers of an injected error: Retry-After when the fault has one."""
        return {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}

    def _guarded(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            await request.body()  # read now: after a stall the client may be gone
            response = await self._injected(request) or await handler(request)
            self.traffic.append((request.url.path, response.status_code))
            return response

        return endpoint

    async def _injected(self, request: Request) -> Response | None:
        fault = self.faults.next()
        if fault is None:
            return None
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status is None:
            return None
        return JSONResponse(
            self.fault_body(fault.status), fault.status, headers=self.fault_headers(fault)
        )

    def refusal(self, address: str) -> Any:
        """The code this recipient is refused with, or None if it is not refused."""
        if address not in self.faults.refused:
            return None
        code = self.faults.refused[address]
        return self.opt_out_code if code is None else code

    def deliver(self, key: str | None, delivery: Delivery, reply: T) -> T:
        """Record `delivery` once per idempotency key; a repeat gets the first reply back."""
        if key is not None and key in self._replies:
            return self._replies[key]
        self.deliveries.append(delivery)
        if key is not None:
            self._replies[key] = reply
        return reply

    def reset(self) -> None:
        """Forget deliveries, traffic and faults (credentials and templates stay)."""
        self.faults.clear()
        self.deliveries.clear()
        self.traffic.clear()
        self._replies.clear()
