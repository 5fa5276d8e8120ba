"""Import throughput benchmark: synthetic files into a fresh PostgreSQL database.

    .venv/bin/python -m bench.import_rows [--customers 200000] [--orders 1000000]
        [--events 500000] [--consents 200000] [--server postgresql+psycopg2://postgres@127.0.0.1:5432/]

Generates CSV files (streamed to a temporary folder), imports customers, orders, events and
consents in that order, prints rows/s per kind, the cost of PII encryption and the peak RSS of
the importer and of its parsing child processes, then drops the database. About 1 % of customers repeat another's phone (merged).
With a server on this machine it also prints where the CPU went per row: the importer, its
parsing child and the PostgreSQL backend (read from /proc).
For scale it also prints the floor of a customer import on this machine: the same customer
rows, already parsed, encrypted and encoded, COPYed straight into a copy of the customers table
with its indexes (no staging, upsert, merge or tags).
"""

from __future__ import annotations

import argparse
import base64
import csv
import os
import random
import resource
import secrets
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

START = datetime(2022, 1, 1, tzinfo=UTC)
CATEGORIES = ["shoes", "bags", "beauty", "menswear", "womenswear", "kids", "home", "food"]
EVENTS = ["login", "browse", "search", "favorite", "add_to_cart", "message_open", "message_click"]
CHANNELS = ["sms", "email", "wechat_oa", "app_push"]


def _customers(n: int, rng: random.Random) -> Iterator[list[str]]:
    yield [
        "customer_id",
        "name",
        "phone",
        "email",
        "gender",
        "birthday",
        "city",
        "district",
        "address",
        "member_level",
        "home_store",
        "registered_at",
        "timezone",
        "device_id",
        "wechat_openid",
        "tags",
    ]
    for i in range(n):
        phone_owner = rng.randrange(max(i, 1)) if i and rng.random() < 0.01 else i
        yield [
            f"C{i}",
            f"顾客{i}",
            f"+86 139-{phone_owner // 10000:04d}-{phone_owner % 10000:04d}",
            f"user{i}@example.com",
            rng.choice("MF男女"),
            f"{rng.randint(1950, 2008)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "上海",
            "静安区",
            f"南京西路{i}号",
            rng.choice(["silver", "gold", "platinum"]),
            f"S{rng.randrange(20)}",
            (START + timedelta(minutes=i)).isoformat(),
            "Asia/Shanghai",
            f"dev-{i}",
            f"oid-{i}",
            rng.choice(["", "vip", "vip;kol"]),
        ]


def _orders(n: int, customers: int, rng: random.Random) -> Iterator[list[str]]:
    yield ["order_id", "customer_id", "ordered_at", "amount", "category", "store"]
    for i in range(n):
        at = START + timedelta(seconds=rng.randrange(3 * 365 * 86400))
        yield [
            f"O{i}",
            f"C{rng.randrange(customers)}",
            at.isoformat(),
            f"{rng.randint(1, 500000) / 100:.2f}",
            rng.choice(CATEGORIES),
            f"S{rng.randrange(20)}",
        ]


def _events(n: int, customers: int, rng: random.Random) -> Iterator[list[str]]:
    yield ["event_id", "customer_id", "event_type", "occurred_at", "channel"]
    for i in range(n):
        at = START + timedelta(seconds=rng.randrange(3 * 365 * 86400))
        yield [
            f"E{i}",
            f"C{rng.randrange(customers)}",
            rng.choice(EVENTS),
            at.isoformat(),
            rng.choice(CHANNELS),
        ]


def _consents(n: int, customers: int, rng: random.Random) -> Iterator[list[str]]:
    yield [
        "customer_id",
        "channel",
        "purpose",
        "granted",
        "source",
        "wording_version",
        "recorded_at",
    ]
    for i in range(n):
        at = START + timedelta(seconds=i)
        yield [
            f"C{i % customers}",
            rng.choice(CHANNELS),
            "marketing",
            rng.choice(["true", "false"]),
            "pos",
            "v3",
            at.isoformat(),
        ]


def _write(path: Path, rows: Iterator[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _admin(url: str, sql: str) -> None:
    u = make_url(url)
    conn = psycopg2.connect(host=u.host, port=u.port or 5432, user=u.username, dbname="postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def _rss_sampler(samples: list[float]) -> Callable[[int], None]:
    """An import progress callback that notes the resident set size after each chunk."""
    return lambda _rows: samples.append(_rss_mb())


class _CpuMeter:
    """CPU seconds of this process, its finished children and the engine's PostgreSQL backends
    (those on this machine: /proc of their pids; elsewhere the backend share is None)."""

    def __init__(self, engine: Engine) -> None:
        self.pids: set[int] = set()
        event.listen(engine, "connect", self._remember)

    def _remember(self, dbapi: Any, _record: Any) -> None:
        with dbapi.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            self.pids.add(cur.fetchone()[0])

    def read(self) -> tuple[float, float, float | None]:
        t = os.times()
        mine, children = t.user + t.system, t.children_user + t.children_system
        backend = 0.0
        for pid in self.pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return mine, children, None
            backend += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return mine, children, backend


def _cpu_line(
    before: tuple[float, float, float | None], after: tuple[float, float, float | None], rows: int
) -> str:
    parts = [
        f"{name} {(b - a) / rows * 1e6:.1f}"
        for name, a, b in zip(
            ("importer", "parsing child", "PostgreSQL"), before, after, strict=True
        )
        if a is not None and b is not None
    ]
    return "CPU µs per row: " + ", ".join(parts)


def _crypto_cost(rows: int = 20000) -> float:
    """Microseconds of PII protection per customer row (4 ciphertexts, 2 blind indexes)."""
    from privacy.blind_index import blind_index
    from privacy.cipher import encrypt

    t = time.perf_counter()
    for i in range(rows):
        for field, value in (
            ("name", "顾客"),
            ("phone", f"139{i:08d}"),
            ("email", f"u{i}@example.com"),
            ("address", "南京西路1号"),
        ):
            encrypt(value, field)
        blind_index("phone", f"139{i:08d}")
        blind_index("email", f"u{i}@example.com")
    return (time.perf_counter() - t) / rows * 1e6


def _customers_floor(engine: Engine, path: Path) -> float:
    """Rows/s of COPY alone of the file's customer rows into a table like customers (the rows
    are parsed and encoded into a COPY file first, untimed)."""
    from ingest import staging
    from ingest.batches import read_batches

    rows, columns = 0, ""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as copy_file:
        for batch in read_batches(path, "customers", datetime.now(UTC), 10_000):
            for record in batch.records:
                del record["line"]
            encoded = staging.encode(staging.CUSTOMERS, batch.records)
            copy_file.write(encoded.text)
            rows, columns = rows + len(batch.records), ", ".join(encoded.columns)
        copy_file.seek(0)
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("CREATE TABLE customers_floor (LIKE customers INCLUDING ALL)")
            started = time.perf_counter()
            cur.copy_expert(f"COPY customers_floor ({columns}) FROM STDIN", copy_file, size=1 << 20)
            raw.commit()
            seconds = time.perf_counter() - started
            cur.execute("DROP TABLE customers_floor")
            raw.commit()
        finally:
            raw.close()
    return rows / seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=200_000)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--events", type=int, default=500_000)
    ap.add_argument("--consents", type=int, default=200_000)
    ap.add_argument("--server", default="postgresql+psycopg2://postgres@127.0.0.1:5432/")
    args = ap.parse_args()
    os.environ.setdefault(
        "OMNIREACH_PII_KEYS", "bench:" + base64.b64encode(secrets.token_bytes(32)).decode()
    )
    os.environ.setdefault("OMNIREACH_INDEX_KEY", base64.b64encode(secrets.token_bytes(32)).decode())

    import models.ingest_tables  # noqa: F401
    from db.engine import make_engine
    from ingest.columns import Kind
    from ingest.run import import_file
    from models.tables import Base

    rng = random.Random(7)
    name = f"omni_bench_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files: dict[Kind, Path] = {
            "customers": _write(folder / "customers.csv", _customers(args.customers, rng)),
            "orders": _write(folder / "orders.csv", _orders(args.orders, args.customers, rng)),
            "events": _write(folder / "events.csv", _events(args.events, args.customers, rng)),
            "consents": _write(
                folder / "consents.csv", _consents(args.consents, args.customers, rng)
            ),
        }
        print(
            f"PII protection: {_crypto_cost():.1f} µs per customer row "
            "(4 AES-GCM encryptions + 2 HMAC blind indexes)"
        )
        _admin(args.server, f"CREATE DATABASE {name}")
        engine = make_engine(args.server + name)
        meter = _CpuMeter(engine)
        try:
            Base.metadata.create_all(engine)
            total_rows, total_s = 0, 0.0
            for kind, path in files.items():
                rss = [_rss_mb()]
                cpu = meter.read()
                report = import_file(
                    engine, kind, path, folder / f"{kind}.rejects.csv", progress=_rss_sampler(rss)
                )
                total_rows += report.rows_read
                total_s += report.seconds
                print(
                    f"{kind:10} {report.rows_read:>9,} rows in {report.seconds:7.2f} s = "
                    f"{report.rows_per_second:>9,.0f} rows/s  (inserted {report.inserted:,}, "
                    f"merged {report.merged:,}; RSS {rss[0]:.0f} MB before, "
                    f"{max(rss):.0f} MB at most, {rss[-1]:.0f} MB at the end)"
                )
                print(f"{'':10} {_cpu_line(cpu, meter.read(), report.rows_read)}")
            print(
                f"{'all':10} {total_rows:>9,} rows in {total_s:7.2f} s = "
                f"{total_rows / total_s:>9,.0f} rows/s"
            )
            print(
                "floor: the parsed customer rows COPYed straight into a table like customers "
                "(same indexes; no staging, upsert, merge or tags): "
                f"{_customers_floor(engine, files['customers']):,.0f} rows/s"
            )
        finally:
            engine.dispose()
            _admin(args.server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"peak RSS of the benchmark process: {_peak_mb():.0f} MB; "
        f"of its file-parsing child processes: {children:.0f} MB"
    )


if __name__ == "__main__":
    main()
