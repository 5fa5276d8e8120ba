"""Track API ingest benchmark: `starter.py track-service` against a fresh PostgreSQL database.

Seeds N customers, adds an HMAC source, starts the service as its own process, and posts
events with concurrent clients: first in batches of 500, then in batches of 1. Every request
is signed at send time; the bodies are built before the clock starts. Prints events/s for
each (the target is 10,000 events/s in batches of 500), checks the database holds exactly the
events answered as accepted, and prints the floor on this machine: the same events, already
validated, stored by the service's own code in the same batches on as many connections as
clients (no HTTP, signature, parsing or validation), and the measured rate as a % of it.
The clients run on the same machine, and their CPU counts against the service's.

    .venv/bin/python -m bench.track_ingest [--customers 10000] [--batched 100000]
        [--single 5000] [--clients 8]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault(
    "OMNIREACH_PII_KEYS", "b1:" + base64.b64encode(secrets.token_bytes(32)).decode()
)
os.environ.setdefault("OMNIREACH_INDEX_KEY", base64.b64encode(secrets.token_bytes(32)).decode())

from bench.send_throughput import create_db, drop_db  # noqa: E402
from channels.signing import signed_headers  # noqa: E402
from db.engine import make_engine, session_scope  # noqa: E402
from demo.processes import spawn, stop, wait_for_port  # noqa: E402
from emulators.server import free_port  # noqa: E402
from models.tables import BehaviorEvent  # noqa: E402
from track.events import Event, validate  # noqa: E402
from track.sources import SOURCE_HEADER, add_source  # noqa: E402
from track.store import store  # noqa: E402

TYPES = ["browse", "search", "favorite", "add_to_cart", "order", "pay"]


def events(n: int, customers: int, tag: str) -> list[dict[str, Any]]:
    at = (datetime.now(UTC) - timedelta(seconds=30)).isoformat()
    return [
        {
            "event_id": f"{tag}-{i}",
            "customer_id": f"C{i % customers}",
            "event_type": TYPES[i % len(TYPES)],
            "occurred_at": at,
            "channel": "app",
            "properties": {"sku": f"SKU-{i % 977}", "price": 199.0, "qty": 1 + i % 3},
        }
        for i in range(n)
    ]


def bodies(items: list[dict[str, Any]], size: int) -> list[bytes]:
    return [
        json.dumps({"events": items[i : i + size]}, separators=(",", ":")).encode()
        for i in range(0, len(items), size)
    ]


async def post_all(
    base: str, name: str, secret: str, todo: list[bytes], clients: int
) -> dict[str, Any]:
    """Post every body with `clients` concurrent connections; events/s over the whole run."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in todo:
        queue.put_nowait(body)
    accepted, failures = 0, 0

    async def client() -> None:
        nonlocal accepted, failures
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            while not queue.empty():
                body = queue.get_nowait()
                headers = {SOURCE_HEADER: name, **signed_headers(secret, body)}
                r = await http.post("/v1/events", content=body, headers=headers)
                if r.status_code == 200:
                    accepted += r.json()["accepted"]
                else:
                    failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    seconds = time.perf_counter() - started
    return {"accepted": accepted, "failures": failures, "seconds": seconds}


def floor(url: str, source_id: int, items: list[dict[str, Any]], size: int, clients: int) -> float:
    """Events/s of the service's store() alone on pre-validated events, in batches of `size`,
    each batch its own transaction, `clients` at a time (as many connections as clients)."""
    now = datetime.now(UTC)
    valid = [e for i, item in enumerate(items) if isinstance(e := validate(i, item, now), Event)]
    engine = make_engine(url)

    def one(start: int) -> None:
        with Session(engine) as session, session.begin():
            store(session, source_id, valid[start : start + size], now)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(0, len(valid), size)))
    seconds = time.perf_counter() - started
    engine.dispose()
    return len(valid) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--batched", type=int, default=100_000, help="events sent 500 a request")
    parser.add_argument("--single", type=int, default=5_000, help="events sent 1 a request")
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    url = create_db()
    port, metrics = free_port(), free_port()
    tmp = Path(tempfile.mkdtemp())
    env = {
        "DATABASE_URL": url,
        "OMNIREACH_METRICS_PORT": str(metrics),
        "OMNIREACH_AUDIT_CHECKPOINT": str(tmp / "audit-head.json"),
    }
    os.environ.update(env)
    engine = make_engine(url)
    proc = None
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO customers (external_id, timezone) "
                    "SELECT 'C' || g, 'Asia/Shanghai' FROM generate_series(0, :n - 1) g"
                ),
                {"n": args.customers},
            )
        name = f"bench-{uuid.uuid4().hex[:6]}"
        with session_scope(engine) as session:
            secret = add_source(session, name, "hmac", by="bench", at=datetime.now(UTC))
        proc = spawn(
            [sys.executable, str(ROOT / "starter.py"), "track-service", "--port", str(port)],
            tmp / "track.log",
            env,
        )
        wait_for_port("127.0.0.1", port, 60, "track-service")
        base = f"http://127.0.0.1:{port}"
        print(
            f"track API: {args.customers:,} customers, {args.clients} concurrent clients, "
            "one service process, HMAC-signed requests"
        )
        results = {}
        for size, count in ((500, args.batched), (1, args.single)):
            items = events(count, args.customers, f"b{size}")
            run = asyncio.run(post_all(base, name, secret, bodies(items, size), args.clients))
            rate = run["accepted"] / run["seconds"]
            results[size] = rate
            print(
                f"batches of {size:>3}: {run['accepted']:>9,} events accepted in "
                f"{run['seconds']:7.2f} s = {rate:>9,.0f} events/s "
                f"({count // size / run['seconds']:,.0f} requests/s, {run['failures']} failed)"
            )
        with engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(BehaviorEvent)).scalar_one()
        expected = args.batched + args.single
        print(f"stored: {total:,} events of {expected:,} posted (every one answered as accepted)")
        source_id = engine.connect().execute(text("SELECT id FROM track_sources")).scalar_one()
        floor_events = events(min(args.batched, 50_000), args.customers, "f")
        rate = floor(url, source_id, floor_events, 500, args.clients)
        print(
            f"floor, batches of 500 on {args.clients} connections (the service's store alone: "
            f"no HTTP, signature, parsing or validation): {rate:,.0f} events/s; "
            f"measured {100 * results[500] / rate:.0f} % of it"
        )
    finally:
        if proc is not None:
            stop(proc)
        engine.dispose()
        drop_db(url)


if __name__ == "__main__":
    main()
