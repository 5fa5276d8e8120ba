"""Journey advance alone: N customers through send → wait → branch → send, no send engine.

The same journey and customers as bench/journey.py, on a real PostgreSQL, without Temporal:
customers enter, every open send of theirs is marked made between advances, and the clock is
moved past the wait. Prints moves/s of the advance by itself (what bench/journey.py's
transitions/s becomes when sends do not compete for the machine) and where its time goes,
statement by statement, so the next bottleneck is found by measurement.

    .venv/bin/python -m bench.journey_advance --customers 1000000
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.journey import build, journey_spec  # noqa: E402
from bench.send_throughput import create_db, drop_db  # noqa: E402
from db.engine import make_engine, session_scope  # noqa: E402
from journey.advance import advance, enter  # noqa: E402
from journey.moves import Journey  # noqa: E402

CAMPAIGN = "bench-advance"
MADE = text(f"UPDATE planned_sends SET status = 'sent' WHERE campaign_id = '{CAMPAIGN}'")


def timed(engine: Engine) -> dict[str, list[float]]:
    """statement kind (its first words) → [seconds, calls, rows], filled as statements run."""
    spent: dict[str, list[float]] = defaultdict(lambda: [0.0, 0, 0])

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info["started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _stop(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        kind = " ".join(statement.split()[:4])[:48]
        line = spent[kind]
        line[0] += time.perf_counter() - conn.info["started"]
        line[1] += 1
        line[2] += max(cursor.rowcount, 0)

    return spent


def run(n: int) -> None:
    url = create_db()
    try:
        now = datetime.now(UTC)
        spec = journey_spec(n, now)
        build(url, n, CAMPAIGN, spec, now)
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(MADE)
        spent = timed(engine)
        started = time.perf_counter()
        with session_scope(engine) as session:
            enter(session, Journey(CAMPAIGN, spec, now, "postgresql"))
        entering = time.perf_counter() - started
        spent.clear()
        moves, seconds, rounds = 0, 0.0, 0
        while True:
            at = now + timedelta(minutes=2 * rounds)
            t = time.perf_counter()
            progress = advance(engine, Journey(CAMPAIGN, spec, at, "postgresql"))
            seconds += time.perf_counter() - t
            moves += progress.moved
            rounds += 1
            with engine.begin() as conn:
                conn.execute(MADE)
            if not progress.by_step:
                break
        print(f"{n:,} customers: entered in {entering:.1f} s; {moves:,} moves in {seconds:.1f} s")
        print(f"advance alone: {moves / seconds:,.0f} moves/s over {rounds} advances")
        print(f"{'seconds':>8} {'calls':>6} {'rows':>10} {'µs/row':>8}  statement")
        for kind, (secs, calls, rows) in sorted(spent.items(), key=lambda kv: -kv[1][0])[:12]:
            if kind.startswith("UPDATE planned_sends SET status"):
                continue  # the benchmark's stand-in for the send engine
            per_row = f"{1e6 * secs / rows:8.1f}" if rows else " " * 8
            print(f"{secs:8.2f} {int(calls):6d} {int(rows):10,d} {per_row}  {kind}")
        engine.dispose()
    finally:
        drop_db(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 1_000_000])
    for n in parser.parse_args().customers:
        run(n)


if __name__ == "__main__":
    main()
