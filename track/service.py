"""`POST /v1/events`: a source posts a batch of events; each is stored or rejected on its own.

Answers (JSON, every stored event committed before the answer is sent):
- 200: every event stored or a duplicate; 422: some events rejected, the others stored. Both
  carry `accepted`, `duplicates`, `rejected` and `events`, one entry per posted event in order:
  `{"index", "event_id", "status": accepted|duplicate|rejected, "errors": [{field, value,
  reason}]}` (values masked as the import's reject file masks them).
- 401: no, wrong, revoked or stale key or signature; 413: body over MAX_BODY (cut while it
  streams in); 400: not JSON, no `events` array, or more than MAX_EVENTS events;
  503: the database is unavailable or busy (nothing stored: send the batch again).
Logs carry counts and the source id, never customer ids or values.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db.engine import default_engine
from ingest.rejects import shown
from observability.metrics import TRACK_EVENTS, TRACK_REQUESTS
from optout.pages import answer
from track.events import BadBatch, Event, Problem, batch_items, validate
from track.sources import authenticate
from track.store import store
from web.body import read_capped

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
MAX_BODY = 2 * 1024 * 1024  # 1,000 events with properties near their cap
# Each statement (and lock wait: a customer import holds its lock for the whole file) ends
# within this many seconds, so a request's transaction stays short (answer: 503, send again)
# and readers of recent events need only a short window (docs/track-api.md).
STATEMENT_TIMEOUT = 5.0
UNKNOWN_CUSTOMER = "unknown customer_id (import the customer first)"


def _reason(problems: list[Problem]) -> str:
    """A bounded metric label: the first failing field (properties.* as one)."""
    field = problems[0].field
    if field.startswith("properties"):
        return "properties"
    if problems[0].reason.startswith("unknown field"):
        return "unknown_field"
    return field or "event"


def _entry(item: Any, status: str, problems: list[Problem] | None = None) -> dict[str, Any]:
    event_id = item.get("event_id") if isinstance(item, dict) else None
    entry: dict[str, Any] = {"status": status}
    if isinstance(event_id, str):
        entry["event_id"] = event_id[:128]
    if problems:
        entry["errors"] = [p.as_json() for p in problems]
    return entry


def ingest(
    engine: Engine, headers: Mapping[str, str], body: bytes, now: datetime
) -> tuple[int, dict[str, Any]]:
    """Authenticate, validate and store one request in one transaction, committed on return."""
    with Session(engine) as session, session.begin():
        source = authenticate(session, headers, body, now.timestamp())
        if source is None:
            TRACK_REQUESTS.labels("unauthenticated").inc()
            return 401, {"error": "missing, wrong, revoked or stale key or signature"}
        try:
            items = batch_items(body)
        except BadBatch as exc:
            TRACK_REQUESTS.labels("bad_batch").inc()
            return 400, {"error": str(exc)}
        checked = [validate(index, item, now) for index, item in enumerate(items)]
        valid = [c for c in checked if isinstance(c, Event)]
        stored = store(session, source, valid, now)
    problems = {i: c for i, c in enumerate(checked) if not isinstance(c, Event)}
    for event in valid:
        if event.index in stored.unknown:
            ref = shown("customer_id", event.customer_ref)
            problems[event.index] = [Problem(event.index, "customer_id", ref, UNKNOWN_CUSTOMER)]
    entries = []
    for index, item in enumerate(items):
        if index in problems:
            TRACK_EVENTS.labels("rejected", _reason(problems[index])).inc()
            entries.append({"index": index} | _entry(item, "rejected", problems[index]))
        else:
            status = "duplicate" if index in stored.duplicates else "accepted"
            entries.append({"index": index} | _entry(item, status))
    counts = {
        "accepted": len(stored.accepted),
        "duplicates": len(stored.duplicates),
        "rejected": len(problems),
    }
    TRACK_EVENTS.labels("accepted", "").inc(counts["accepted"])
    TRACK_EVENTS.labels("duplicate", "").inc(counts["duplicates"])
    TRACK_REQUESTS.labels("partial" if problems else "ok").inc()
    if problems:
        log.info("track source %d: %s", source, counts)
    return (422 if problems else 200), counts | {"events": entries}


def create_app(engine: Engine | None = None, *, clock: Clock | None = None) -> Starlette:
    """The track API; `engine` defaults to DATABASE_URL."""
    now = clock or (lambda: datetime.now(UTC))

    async def post_events(request: Request) -> Response:
        body = await read_capped(request, MAX_BODY)
        if body is None:
            TRACK_REQUESTS.labels("too_large").inc()
            return answer({"error": f"body larger than {MAX_BODY} bytes"}, 413)
        try:
            status, doc = await run_in_threadpool(
                ingest, engine or default_engine(), request.headers, body, now()
            )
        except SQLAlchemyError as exc:
            TRACK_REQUESTS.labels("unavailable").inc()
            log.warning("track batch not stored: %s", type(exc).__name__)
            return answer({"error": "temporarily unavailable: nothing stored, send again"}, 503)
        return answer(doc, status)

    async def health(_request: Request) -> Response:
        return answer({"ok": True})

    return Starlette(
        routes=[
            Route("/v1/events", post_events, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ]
    )
