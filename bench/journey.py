"""Journey benchmark: N customers enter at once a journey send → wait → branch → send.

Real Temporal dev server, real PostgreSQL, the sandbox channel, one worker process. The
journey: an SMS to everyone (step `first`), a short wait, a branch on a profile filter (women
go on, the rest leave), a second SMS. Measures, per N:
* step transitions/s: customers moved by the journey's advances over the seconds those advances
  took (the worker's omnireach_journey_moves_total / omnireach_journey_advance_seconds_sum);
* sends/s end to end: every send of both steps over the sending phase less the wait (the
  wait overlaps the first step's sends, so this leans high at small N), and over the whole
  phase (leans low);
* history events of the longest run and the number of runs (continue-as-new);
* the worker's peak memory.
With --compare it also runs bench/send_throughput.py's one-step campaign of the same size in
the same session, for the same-day ratio.

    .venv/bin/python -m bench.journey --customers 10000 1000000 --compare
"""

from __future__ import annotations

import argparse
import asyncio
import io
import re
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import Connection, create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.send_throughput import (  # noqa: E402
    PORT,
    campaign_row,
    copy,
    create_db,
    customers,
    drop_db,
    peak_rss_mb,
    run_campaign,
    start_server,
)
from demo.processes import spawn, stop  # noqa: E402
from models.contracts import CampaignInput, Counters, SendingState  # noqa: E402
from models.spec import CampaignSpec  # noqa: E402
from orchestration.client import connect  # noqa: E402
from settings import Settings  # noqa: E402
from workflows.campaign import CampaignWorkflow, workflow_id  # noqa: E402

WAIT = timedelta(seconds=30)
METRICS_PORT = 9650


def journey_spec(n: int, now: datetime) -> CampaignSpec:
    return CampaignSpec.model_validate(
        {
            "name": "bench journey",
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
            "steps": [
                {"id": "first", "send": {}, "next": "pause"},
                {"id": "pause", "wait": f"{int(WAIT.total_seconds())}s", "next": "split"},
                {
                    "id": "split",
                    "branch": {
                        "when": [
                            {
                                "if": {
                                    "filter": {
                                        "profile": {"field": "gender", "op": "eq", "value": "F"}
                                    }
                                },
                                "then": "second",
                            }
                        ],
                        "else": "end",
                    },
                },
                {
                    "id": "second",
                    "send": {
                        "body": "{{ honorific }}，礼券明日到期。拒收请回复R",
                        "template": "bench-sms-2",
                    },
                },
            ],
            "send_window": {"start": now - timedelta(minutes=5), "end": now + timedelta(hours=2)},
            "quiet_hours": None,
            "budget": {"limit": 2 * n},
            "review": {"delay": "1s", "attribution_window": "1s"},
        }
    )


def build(url: str, n: int, campaign_id: str, spec: CampaignSpec, now: datetime) -> float:
    """Customers (half women), consents, and the first step's planned sends, all due now."""
    started = time.perf_counter()
    engine = create_engine(url)
    with engine.begin() as conn:
        customers(conn, n, now, lambda i: "F" if i % 2 else "M")
        _first_sends(conn, campaign_id, spec, n, now)
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def _first_sends(
    conn: Connection, campaign_id: str, spec: CampaignSpec, n: int, now: datetime
) -> None:
    campaign_row(conn, campaign_id, spec, now)
    due = (now - timedelta(minutes=1)).isoformat()
    buf = io.StringIO()
    for i in range(1, n + 1):
        buf.write(
            f"{campaign_id}\t{i}\tsms\tbench-sms\t{due}\t0.0100\t"
            f"{campaign_id}:{i}:sms:first\tplanned\t0\tfirst\n"
        )
    copy(
        conn,
        "planned_sends",
        "campaign_id, customer_id, channel, template, scheduled_at, unit_cost, idempotency_key, "
        "status, attempts, step",
        buf,
    )


def two_a_day() -> Path:
    """The default caps, but the journey's two messages a day: the caps still run on both."""
    path = ROOT / "var" / "bench" / "journey-caps.yaml"
    doc = yaml.safe_load((ROOT / "config" / "caps.yaml").read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump(doc | {"per_day_total": 2}), encoding="utf-8")
    return path


def scrape(port: int, name: str) -> float:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    match = re.search(rf"^{name} ([0-9.e+]+)$", body, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def run_journey(url: str, n: int) -> dict[str, float]:
    campaign_id = f"bench-j-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    spec = journey_spec(n, now)
    build_seconds = build(url, n, campaign_id, spec, now)
    env = {
        "DATABASE_URL": url,
        "TEMPORAL_ADDRESS": f"127.0.0.1:{PORT}",
        "OMNIREACH_METRICS_PORT": str(METRICS_PORT),
        "OMNIREACH_CAPS_FILE": str(two_a_day()),
    }
    worker = spawn(
        [sys.executable, str(ROOT / "worker.py")],
        ROOT / "var" / "bench" / "journey-worker.log",
        env,
    )
    try:
        client = await connect(Settings(temporal_address=f"127.0.0.1:{PORT}", database_url=url))
        started = time.perf_counter()
        handle = await client.start_workflow(
            CampaignWorkflow.run,
            CampaignInput(
                campaign_id=campaign_id,
                spec=spec,
                requested_by="bench",
                slot_seconds=5,
                send_lanes=4,
                send_max_items=10_000,
                resume=SendingState(counters=Counters(planned=n), approved_by=["bench"]),
            ),
            id=workflow_id(campaign_id),
            task_queue=Settings().task_queue,
        )
        while (status := await handle.query(CampaignWorkflow.status)).phase.value == "sending":
            await asyncio.sleep(0.5)
        elapsed = time.perf_counter() - started
        moves = scrape(METRICS_PORT, "omnireach_journey_moves_total")
        advancing = scrape(METRICS_PORT, "omnireach_journey_advance_seconds_sum")
        await handle.result()
        runs, longest = 0, 0
        async for wf in client.list_workflows(f"WorkflowId = '{workflow_id(campaign_id)}'"):
            runs += 1
            history = client.get_workflow_handle(wf.id, run_id=wf.run_id).fetch_history_events()
            longest = max(longest, len([e async for e in history]))
        rss = peak_rss_mb(worker.pid)
    finally:
        stop(worker)
    return {
        "customers": n,
        "build_s": build_seconds,
        "phase_s": elapsed,
        "sent": status.counters.sent,
        "sends_per_s": status.counters.sent / (elapsed - WAIT.total_seconds()),
        "sends_per_phase_s": status.counters.sent / elapsed,
        "moves": moves,
        "moves_per_s": moves / advancing if advancing else float("nan"),
        "ended": sum(status.journey_ended.values()),
        "runs": runs,
        "longest_run_events": longest,
        "peak_rss_mb": rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument(
        "--compare", action="store_true", help="also run the one-step send benchmark"
    )
    args = parser.parse_args()
    server = start_server()
    try:
        print(
            f"{'customers':>10} {'build s':>8} {'phase s':>8} {'sent':>9} {'sends/s':>8} "
            f"{'w/ wait':>8} "
            f"{'moves':>9} {'moves/s':>8} {'ended':>9} {'runs':>5} {'events/run':>10} "
            f"{'peak MB':>8} {'1-step/s':>9} {'ratio':>6}",
            flush=True,
        )
        for n in args.customers:
            url = create_db()
            try:
                r = asyncio.run(run_journey(url, n))
            finally:
                drop_db(url)
            one_step = float("nan")
            if args.compare:
                url = create_db()
                try:
                    one_step = asyncio.run(run_campaign(url, n, 1))["sends_per_s"]
                finally:
                    drop_db(url)
            print(
                f"{r['customers']:>10} {r['build_s']:>8.1f} {r['phase_s']:>8.1f} {r['sent']:>9} "
                f"{r['sends_per_s']:>8.0f} {r['sends_per_phase_s']:>8.0f} "
                f"{r['moves']:>9.0f} {r['moves_per_s']:>8.0f} "
                f"{r['ended']:>9} {r['runs']:>5} {r['longest_run_events']:>10} "
                f"{r['peak_rss_mb']:>8.0f} {one_step:>9.0f} {r['sends_per_s'] / one_step:>6.2f}",
                flush=True,
            )
    finally:
        stop(server)


if __name__ == "__main__":
    main()
