"""Benchmark: research + planning over a synthetic base in a fresh PostgreSQL database.

    .venv/bin/python bench/research_planning.py [--customers 1000000] [--keep]

Builds customers, 5 orders and 10 behavior events per customer (and consent events) with COPY,
then times, in a separate process so its peak memory is its own: the profile refresh, the
audience snapshot and the plan for one campaign over the whole base. Prints each figure and
the peak RSS; drops the database at the end unless --keep.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from db.engine import make_engine  # noqa: E402
from models.spec import CampaignSpec  # noqa: E402
from models.tables import Base, Campaign  # noqa: E402

SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432"
AS_OF = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HISTORY_S = 730 * 86400
CITIES = ("上海", "北京", "广州", "深圳", "杭州", "南京", "成都", "武汉", "苏州", "天津")
CATEGORIES = (
    "apparel",
    "shoes",
    "beauty",
    "food",
    "home",
    "kids",
    "sports",
    "electronics",
    "jewelry",
    "books",
    "luxury",
    "outdoor",
)
ZONES = ("Asia/Shanghai",) * 95 + ("Asia/Hong_Kong",) * 3 + ("America/New_York",) * 2
EVENTS = (
    ("browse", 30),
    ("login", 25),
    ("message_open", 15),
    ("search", 10),
    ("add_to_cart", 8),
    ("message_click", 5),
    ("favorite", 4),
    ("order", 3),
)
MESSAGE_CHANNELS = ("sms", "wechat_oa", "email", "app_push")
CAMPAIGN, CAMPAIGN_B = "bench-a", "bench-b"
SPEC = {
    "name": "bench",
    "objective": "reactivate",
    "owner": "bench",
    "audience": {"lifecycle": ["new", "active", "at_risk", "dormant", "churned"]},
    "holdout_percent": 10,
    "channels": [
        {"channel": "sms", "template": "s", "body": "b", "priority": 1},
        {"channel": "wechat_oa", "template": "w", "body": "b", "priority": 1},
        {"channel": "email", "template": "e", "body": "b", "subject": "s", "priority": 2},
        {"channel": "app_push", "template": "a", "body": "b", "priority": 2},
    ],
    "send_window": {
        "start": (AS_OF + timedelta(days=1)).isoformat(),
        "end": (AS_OF + timedelta(days=3)).isoformat(),
    },
    "budget": {"limit": "8000"},
}


class RowStream:
    """A file-like view of generated COPY text rows, so memory stays flat for any size."""

    def __init__(self, rows: Iterator[str]) -> None:
        self._rows, self._buf = rows, b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buf) < size:
            chunk = "".join(islice(self._rows, 20_000))
            if not chunk:
                break
            self._buf += chunk.encode()
        if size < 0:
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:size], self._buf[size:]
        return out

    readline = read


class Clock:
    """Unix seconds → timestamptz text, fast (day strings cached)."""

    def __init__(self) -> None:
        self._days: dict[int, str] = {}

    def __call__(self, ts: int) -> str:
        day, rest = divmod(ts, 86400)
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d")
        return f"{text} {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}+00"


def _customers(n: int, rnd: random.Random, clock: Clock) -> Iterator[str]:
    end = int(AS_OF.timestamp())
    for cid in range(1, n + 1):
        r = rnd.random()
        email = "\\\\x65" if r < 0.4 else "\\N"
        device = f"d{cid}" if r > 0.5 else "\\N"
        wechat = f"w{cid}" if (r * 7) % 1 < 0.6 else "\\N"
        yield (
            f"{cid}\tc{cid}\t\\\\x70\t{email}\t{device}\t{wechat}\t{'FM'[cid % 2]}\t"
            f"{1950 + cid % 55}\t{CITIES[cid % 10]}\t{('std', 'silver', 'gold')[cid % 3]}\t"
            f"s{cid % 50}\t{ZONES[cid % 100]}\t{clock(end - int(rnd.random() * 3 * 365 * 86400))}\n"
        )


def _orders(n: int, rnd: random.Random, clock: Clock) -> Iterator[str]:
    end = int(AS_OF.timestamp())
    for oid in range(1, 5 * n + 1):
        cid = int(n * rnd.random() ** 2) + 1
        at = end - int(rnd.random() * HISTORY_S)
        at = at - at % 86400 + ((cid * 7 + 1) % 24) * 3600 + oid % 3600
        yield (
            f"o{oid}\t{cid}\t{clock(at)}\t{10 + (oid * 7919) % 99000 / 100:.2f}\t"
            f"{CATEGORIES[(cid + oid % 3) % 12]}\n"
        )


def _events(n: int, rnd: random.Random, clock: Clock) -> Iterator[str]:
    end = int(AS_OF.timestamp())
    kinds = [k for k, w in EVENTS for _ in range(w)]
    for eid in range(1, 10 * n + 1):
        cid = int(n * rnd.random() ** 1.5) + 1
        kind = kinds[eid % 100]
        at = end - int(rnd.random() * HISTORY_S)
        at = at - at % 86400 + ((cid * 7 + eid % 3) % 24) * 3600 + eid % 3600
        channel = MESSAGE_CHANNELS[(cid + eid) % 4] if kind.startswith("message") else "\\N"
        yield f"{cid}\t{kind}\t{clock(at)}\t{channel}\n"


def _consents(n: int, rnd: random.Random, clock: Clock) -> Iterator[str]:
    at = clock(int(AS_OF.timestamp()) - 30 * 86400)
    later = clock(int(AS_OF.timestamp()) - 86400)
    for cid in range(1, n + 1):
        for channel, share in (("sms", 0.7), ("wechat_oa", 0.5), ("email", 0.3), ("app_push", 0.4)):
            if rnd.random() < share:
                yield f"{cid}\t{channel}\tmarketing\tt\timport\t{at}\n"
                if rnd.random() < 0.03:
                    yield f"{cid}\t{channel}\tmarketing\tf\tunsubscribe\t{later}\n"


TABLES = (
    (
        "customers",
        "id, external_id, phone_enc, email_enc, device_id, wechat_openid, gender, "
        "birth_year, city, member_level, home_store, timezone, registered_at",
        _customers,
    ),
    ("orders", "external_id, customer_id, ordered_at, amount, category", _orders),
    ("behavior_events", "customer_id, event_type, occurred_at, channel", _events),
    ("consent_events", "customer_id, channel, purpose, granted, source, recorded_at", _consents),
)


def load_base(engine: Engine, n: int) -> dict[str, int]:
    """COPY the synthetic base, then VACUUM ANALYZE as autovacuum would."""
    rnd, clock, counts = random.Random(20260301), Clock(), {}
    raw = engine.raw_connection()
    try:
        for table, columns, rows in TABLES:
            started = time.perf_counter()
            with closing(raw.cursor()) as cur:
                cur.copy_expert(
                    f"COPY {table} ({columns}) FROM STDIN",
                    RowStream(rows(n, rnd, clock)),
                    size=1 << 20,
                )
                counts[table] = cur.rowcount
            raw.commit()
            print(
                f"  {table}: {counts[table]:,} rows in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
        raw.set_isolation_level(0)
        with closing(raw.cursor()) as cur:
            cur.execute("SELECT setval('customers_id_seq', %s)", (n,))
            cur.execute("VACUUM ANALYZE")
    finally:
        raw.close()
    return counts


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_run(url: str) -> dict[str, float]:
    """Each step in its own transaction, as the activities run them.

    cold: the first refresh of a new base, then research and planning of campaign A.
    campaign time: an hour later the scheduled refresh (profiles and tags exist: steady state),
    then campaign B five minutes after it, whose research finds the profiles fresh.
    """
    from audience.snapshot import take_snapshot
    from planning.plan import make_plan
    from profiles.refresh import refresh_profiles

    engine = make_engine(url)
    spec = CampaignSpec.model_validate(SPEC)
    later, b_at = AS_OF + timedelta(hours=1), AS_OF + timedelta(hours=1, minutes=5)
    with Session(engine) as s:
        for cid in (CAMPAIGN, CAMPAIGN_B):
            s.merge(
                Campaign(
                    id=cid,
                    name="bench",
                    objective="reactivate",
                    owner="bench",
                    requested_by="bench",
                    spec=SPEC,
                    phase="research",
                    budget_limit=spec.budget.limit,
                    created_at=AS_OF,
                    updated_at=AS_OF,
                )
            )
        s.commit()
    steps = (
        ("refresh_s", lambda s: refresh_profiles(s, AS_OF)),
        ("snapshot_s", lambda s: take_snapshot(s, CAMPAIGN, spec, AS_OF)),
        ("plan_s", lambda s: make_plan(s, CAMPAIGN, spec, AS_OF)),
        ("refresh_steady_s", lambda s: refresh_profiles(s, later)),
        ("snapshot_b_s", lambda s: take_snapshot(s, CAMPAIGN_B, spec, b_at)),
        ("plan_b_s", lambda s: make_plan(s, CAMPAIGN_B, spec, b_at)),
    )
    figures: dict[str, float] = {}
    for name, step in steps:
        started = time.perf_counter()
        with Session(engine) as s:
            out = step(s)
            s.commit()
        figures[name] = round(time.perf_counter() - started, 2)
        summary = out if isinstance(out, int) else out.model_dump(mode="json")
        print(f"  {name:<17} {figures[name]:>7.2f} s   {json.dumps(summary)[:240]}", flush=True)
    figures["cold_total_s"] = round(
        figures["refresh_s"] + figures["snapshot_s"] + figures["plan_s"], 2
    )
    figures["campaign_time_s"] = round(figures["snapshot_b_s"] + figures["plan_b_s"], 2)
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    parser.add_argument("--run-only", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_only:
        print(json.dumps(timed_run(args.run_only)))
        return
    if args.customers < 10:
        parser.error("--customers must be at least 10")
    name = f"omni_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{SERVER}/{name}"
    try:
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        print(f"database {name}: building {args.customers:,} customers …", flush=True)
        started = time.perf_counter()
        counts = load_base(engine, args.customers)
        engine.dispose()
        print(f"  built {counts} in {time.perf_counter() - started:.1f} s", flush=True)
        run = subprocess.run(
            [sys.executable, __file__, "--run-only", url],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        )
        lines = run.stdout.strip().splitlines()
        print("\n".join(lines[:-1]))
        figures = json.loads(lines[-1])
        print(
            f"cold (first refresh + research + planning): {figures['cold_total_s']} s; "
            f"at campaign time (fresh profiles): research + planning "
            f"{figures['campaign_time_s']} s, scheduled refresh {figures['refresh_steady_s']} s;"
            f" worker peak RSS {figures['peak_rss_mb']} MB"
        )
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            print(f"dropped {name}")
        admin.dispose()


if __name__ == "__main__":
    main()
