"""Send-phase benchmark: one campaign whose sends all fall due at once, end to end.

Real Temporal dev server, real PostgreSQL, the sandbox channel. Builds N customers with
consent and N planned sends (COPY), starts the campaign workflow straight in its sending
phase, and measures sends per second, workflow history per run, and worker peak memory —
with one worker process and with two.
For scale it also prints, per row, the floor of that send on this machine: PostgreSQL alone
writing the rows those sends write (claim, contact ledger, budget, sandbox outbox, delivery,
final status), set-based in the engine's batches of 1,000, for a second campaign's planned sends
in the same database right after the measured one; and the measured sends/s as a % of it.

    .venv/bin/python -m bench.send_throughput --customers 1000000 --workers 1 2
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Connection, create_engine, func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from content.render import render_message  # noqa: E402
from demo.processes import spawn, stop, wait_for_port  # noqa: E402
from models.contracts import CampaignInput, Counters, SendingState  # noqa: E402
from models.spec import CampaignSpec  # noqa: E402
from models.tables import Campaign, SandboxOutbox  # noqa: E402
from orchestration.client import connect  # noqa: E402
from privacy.blind_index import blind_index  # noqa: E402
from privacy.cipher import encrypt  # noqa: E402
from settings import Settings  # noqa: E402
from workflows.campaign import CampaignWorkflow, workflow_id  # noqa: E402

ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
PORT = 7399


def create_db() -> str:
    name = f"omni_bench_{uuid.uuid4().hex[:8]}"
    with create_engine(ADMIN, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        check=True,
        env={**os.environ, "DATABASE_URL": url},
    )
    return url


def drop_db(url: str) -> None:
    with create_engine(ADMIN, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))


def copy(conn: Connection, table: str, columns: str, rows: io.StringIO) -> None:
    rows.seek(0)
    raw = conn.connection.dbapi_connection
    assert raw is not None, "a connection that is in use has its DBAPI connection"
    raw.cursor().copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT text)", rows)


def campaign_row(conn: Connection, campaign_id: str, spec: CampaignSpec, now: datetime) -> None:
    """The campaign, approved and in its sending phase."""
    conn.execute(
        insert(Campaign).values(
            id=campaign_id,
            name=spec.name,
            objective=spec.objective,
            owner="bench",
            requested_by="bench",
            priority=5,
            spec=spec.model_dump(mode="json", by_alias=True),
            phase="sending",
            budget_limit=spec.budget.limit,
            spent=Decimal(0),
            created_at=now,
            updated_at=now,
        )
    )


def plan(conn: Connection, campaign_id: str, spec: CampaignSpec, n: int, now: datetime) -> None:
    """The campaign row and one planned SMS to each of customers 1..n, all due now (COPY)."""
    campaign_row(conn, campaign_id, spec, now)
    buf = io.StringIO()
    due = (now - timedelta(minutes=1)).isoformat()
    for i in range(1, n + 1):
        buf.write(
            f"{campaign_id}\t{i}\tsms\tbench-sms\t{due}\t0.0100\t"
            f"{campaign_id}:{i}:sms:1\tplanned\t0\n"
        )
    copy(
        conn,
        "planned_sends",
        "campaign_id, customer_id, channel, template, scheduled_at, "
        "unit_cost, idempotency_key, status, attempts",
        buf,
    )


def daytime_zone(now: datetime) -> str:
    """A fixed-offset zone where it is about noon now: marketing SMS go out only in the legal
    daytime window of the customer's own zone, and the benchmark must not wait for morning."""
    offset = (12 - now.hour + 12) % 24 - 12
    return f"Etc/GMT{-offset:+d}"


def customers(conn: Connection, n: int, now: datetime, gender: Callable[[int], str]) -> None:
    """Customers 1..n with a phone, in a zone where it is daytime, each with SMS consent (COPY)."""
    zone = daytime_zone(now)
    buf = io.StringIO()
    for i in range(1, n + 1):
        phone = f"139{i:08d}"
        buf.write(
            f"{i}\tB{i}\t\\\\x{encrypt('张伟', 'name').hex()}\t"
            f"\\\\x{encrypt(phone, 'phone').hex()}\t{blind_index('phone', phone)}\t"
            f"{gender(i)}\t{zone}\n"
        )
    copy(
        conn,
        "customers",
        "id, external_id, name_enc, phone_enc, phone_index, gender, timezone",
        buf,
    )
    buf = io.StringIO()
    for i in range(1, n + 1):
        buf.write(f"{i}\tsms\tmarketing\tt\tbench\t{now.isoformat()}\n")
    copy(conn, "consent_events", "customer_id, channel, purpose, granted, source, recorded_at", buf)
    conn.execute(text("SELECT setval('customers_id_seq', :n)"), {"n": n})


def build(url: str, n: int, campaign_id: str, spec: CampaignSpec) -> float:
    """Customers, consents and planned sends for one campaign; returns seconds taken."""
    started = time.perf_counter()
    engine = create_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        customers(conn, n, now, lambda i: "F")
        plan(conn, campaign_id, spec, n, now)
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


FLOOR_BATCH = 1000  # the engine's batch (sending.engine.SendPass.batch_size)
IDS = "id >= :lo AND id < :hi"  # one batch of the floor campaign's planned sends
# What one send writes, set-based per batch, grouped in the engine's transactions: claim,
# contact slot and budget (claim and screen); the sandbox outbox (channel); status and delivery.
FLOOR_WRITES = (
    (
        "UPDATE planned_sends SET status = 'sending', claimed_by = 'floor', claimed_at = :at, "
        f"attempts = attempts + 1 WHERE {IDS}",
        "INSERT INTO contact_ledger (customer_id, channel, campaign_id, template, planned_send_id, at)"
        f" SELECT customer_id, channel, campaign_id, template, id, :at FROM planned_sends WHERE {IDS}",
        "UPDATE campaigns SET spent = spent + "
        f"(SELECT sum(unit_cost) FROM planned_sends WHERE {IDS}) WHERE id = :campaign",
    ),
    (
        "INSERT INTO sandbox_outbox (idempotency_key, campaign_id, customer_id, channel, address_enc,"
        " subject, body, received_at) SELECT idempotency_key, campaign_id, customer_id, channel,"
        f" :address, NULL, :body, :at FROM planned_sends WHERE {IDS}"
        " ON CONFLICT (idempotency_key) DO NOTHING",
    ),
    (
        f"UPDATE planned_sends SET status = 'sent', reason = NULL WHERE {IDS}",
        "INSERT INTO deliveries (planned_send_id, campaign_id, customer_id, channel, template,"
        " outcome, provider_message_id, error_code, cost, sent_at) SELECT id, campaign_id,"
        " customer_id, channel, template, 'sent', 'sbx-' || idempotency_key, NULL, unit_cost, :at"
        f" FROM planned_sends WHERE {IDS} ON CONFLICT (planned_send_id) DO NOTHING",
    ),
)


def send_floor(url: str, campaign_id: str, spec: CampaignSpec, sends: int) -> float:
    """Sends/s of PostgreSQL alone writing the rows of `sends` sends: no Temporal, channel,
    screening reads or Python per row, so what the engine adds on top of its writes shows.

    A second campaign's planned sends to the same customers are made first (untimed); then
    each batch of 1,000 takes the engine's statements (FLOOR_WRITES) and commits."""
    if not sends:
        return float("nan")
    floor_id = f"{campaign_id}-floor"
    engine = create_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        plan(conn, floor_id, spec, sends, now)
        conn.execute(text("ANALYZE planned_sends"))
        starts = list(
            conn.execute(
                text(
                    "SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS r FROM planned_sends"
                    " WHERE campaign_id = :c) AS s WHERE r % :b = 1 ORDER BY id"
                ),
                {"c": floor_id, "b": FLOOR_BATCH},
            ).scalars()
        )
        end = conn.execute(
            text("SELECT max(id) + 1 FROM planned_sends WHERE campaign_id = :c"), {"c": floor_id}
        ).scalar_one()
    writes = [[text(sql) for sql in tx] for tx in FLOOR_WRITES]
    body = render_message(None, spec.channel("sms").body, {"honorific": "张女士"}).body
    params = {
        "campaign": floor_id,
        "at": now,
        "body": body,
        "address": encrypt(f"139{sends:08d}", "address_outbox"),
    }
    started = time.perf_counter()
    for lo, hi in zip(starts, [*starts[1:], end], strict=True):
        for tx in writes:
            with engine.begin() as conn:
                for stmt in tx:
                    conn.execute(stmt, params | {"lo": lo, "hi": hi})
    seconds = time.perf_counter() - started
    with engine.connect() as conn:
        made = conn.execute(
            text("SELECT count(*) FROM deliveries WHERE campaign_id = :c"), {"c": floor_id}
        ).scalar_one()
    engine.dispose()
    assert made == sends, f"floor wrote {made} deliveries for {sends} sends"
    return sends / seconds


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def run_campaign(url: str, n: int, workers: int) -> dict[str, float]:
    campaign_id = f"bench-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    spec = CampaignSpec.model_validate(
        {
            "name": "bench",
            "objective": "promote",
            "owner": "bench",
            "audience": {"consent": "sms"},
            "channels": [
                {
                    "channel": "sms",
                    "template": "bench-sms",
                    "body": "{{ honorific }}，会员日礼券已到账。拒收请回复R",
                }
            ],
            "send_window": {"start": now - timedelta(minutes=5), "end": now + timedelta(hours=2)},
            "quiet_hours": None,
            "budget": {"limit": n},
            "review": {"delay": "1s", "attribution_window": "1s"},
        }
    )
    build_seconds = build(url, n, campaign_id, spec)
    env = {"DATABASE_URL": url, "TEMPORAL_ADDRESS": f"127.0.0.1:{PORT}"}
    procs = [
        spawn(
            [sys.executable, str(ROOT / "worker.py")],
            ROOT / "var" / "bench" / f"worker-{i}.log",
            env | {"OMNIREACH_METRICS_PORT": str(9600 + i)},
        )
        for i in range(workers)
    ]
    try:
        client = await connect(
            Settings.from_env().__class__(temporal_address=f"127.0.0.1:{PORT}", database_url=url)
        )
        started = time.perf_counter()
        handle = await client.start_workflow(
            CampaignWorkflow.run,
            CampaignInput(
                campaign_id=campaign_id,
                spec=spec,
                requested_by="bench",
                slot_seconds=5,
                send_lanes=4 * workers,
                send_max_items=10_000,
                resume=SendingState(counters=Counters(planned=n), approved_by=["bench"]),
            ),
            id=workflow_id(campaign_id),
            task_queue=Settings().task_queue,
        )
        while True:
            status = await handle.query(CampaignWorkflow.status)
            if status.phase.value != "sending":
                break
            await asyncio.sleep(0.5)
        elapsed = time.perf_counter() - started
        await handle.result()
        runs, longest = 0, 0
        async for wf in client.list_workflows(f"WorkflowId = '{workflow_id(campaign_id)}'"):
            runs += 1
            events = [
                e
                async for e in client.get_workflow_handle(
                    wf.id, run_id=wf.run_id
                ).fetch_history_events()
            ]
            longest = max(longest, len(events))
        rss = [peak_rss_mb(p.pid) for p in procs]
    finally:
        for p in procs:
            stop(p)
    engine = create_engine(url)
    with engine.connect() as conn:
        outbox = conn.execute(
            select(func.count())
            .select_from(SandboxOutbox)
            .where(SandboxOutbox.campaign_id == campaign_id)
        ).scalar_one()
    engine.dispose()
    floor = send_floor(url, campaign_id, spec, status.counters.sent)
    return {
        "customers": n,
        "workers": workers,
        "build_s": build_seconds,
        "send_s": elapsed,
        "sends_per_s": status.counters.sent / elapsed,
        "sent": status.counters.sent,
        "outbox": outbox,
        "runs": runs,
        "longest_run_events": longest,
        "peak_rss_mb": max(rss),
        "floor_per_s": floor,
    }


def start_server() -> subprocess.Popen[bytes]:
    """A Temporal dev server of the benchmarks' own, with the campaign search attributes."""
    var = ROOT / "var" / "bench"
    var.mkdir(parents=True, exist_ok=True)
    server = spawn(
        [
            str(Path(sys.executable).parent / "temporal"),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(PORT),
            "--headless",
            "--log-level",
            "error",
            "--search-attribute",
            "CampaignPhase=Keyword",
            "--search-attribute",
            "CampaignObjective=Keyword",
            "--search-attribute",
            "CampaignOwner=Keyword",
        ],
        var / "temporal.log",
    )
    wait_for_port("127.0.0.1", PORT, 60, "temporal dev server")
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    server = start_server()
    try:
        print(
            f"{'customers':>10} {'workers':>7} {'build s':>8} {'send s':>8} {'sends/s':>9} "
            f"{'outbox':>9} {'runs':>5} {'events/run':>10} {'peak MB':>8} {'floor/s':>9} "
            f"{'% of floor':>10}",
            flush=True,
        )
        for n in args.customers:
            for w in args.workers:
                url = create_db()
                try:
                    r = asyncio.run(run_campaign(url, n, w))
                finally:
                    drop_db(url)
                share = 100 * r["sends_per_s"] / r["floor_per_s"]
                print(
                    f"{r['customers']:>10} {r['workers']:>7} {r['build_s']:>8.1f} "
                    f"{r['send_s']:>8.1f} {r['sends_per_s']:>9.0f} {r['outbox']:>9} "
                    f"{r['runs']:>5} {r['longest_run_events']:>10} {r['peak_rss_mb']:>8.0f} "
                    f"{r['floor_per_s']:>9.0f} {share:>9.1f}%",
                    flush=True,
                )
    finally:
        stop(server)


if __name__ == "__main__":
    main()
