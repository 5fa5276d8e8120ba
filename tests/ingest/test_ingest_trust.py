"""No import re-subscribes anyone or silently rewrites a record: rows dated in the future and
ids a file repeats are rejected (line, field, value, reason); reject files and the profile
export are safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from db.engine import session_scope
from ingest.columns import Kind
from ingest.run import import_file
from models.tables import BehaviorEvent, Customer, Order
from optout.apply import opt_out
from policy.consent import contactable, has_consent

CONSENT_HEAD = "customer_id,channel,purpose,granted,source,wording_version,recorded_at\n"
ROOT = Path(__file__).resolve().parents[2]
FUTURE = "in the future (more than 5 minutes after the import time)"


def _customer_id(pg: Engine, external_id: str) -> int:
    with pg.connect() as conn:
        return conn.execute(
            select(Customer.id).where(Customer.external_id == external_id)
        ).scalar_one()


def _reachable(pg: Engine, cid: int, channel: str) -> tuple[bool, bool]:
    """The send-time test: (newest ledger event is a grant, contactable on the channel)."""
    with pg.connect() as conn:
        granted = conn.execute(
            select(has_consent(Customer.id, channel)).where(Customer.id == cid)
        ).scalar_one()
        reach = conn.execute(
            select(Customer.id).where(Customer.id == cid, contactable(channel))
        ).first()
    return bool(granted), reach is not None


def test_a_grant_dated_2030_does_not_undo_an_opt_out(pg, make_file, read_rejects) -> None:
    import_file(pg, "customers", make_file("c.csv", "customer_id,phone\nc005,13800138005\n"))
    cid = _customer_id(pg, "c005")
    with session_scope(pg) as s:
        opt_out(
            s,
            customer_id=cid,
            channel=None,
            source="sms_reply:test",
            at=datetime.now(UTC),
            actor="customer:sms_reply",
        )
    path = make_file(
        "k.csv",
        CONSENT_HEAD
        + "c005,wechat_oa,marketing,true,app,v9,2030-01-01T10:00:00+08:00\n"
        + "c005,sms,marketing,true,app,v9,2030-01-01T10:00:00+08:00\n",
    )
    reject = path.with_name("k.rejects.csv")
    report = import_file(pg, "consents", path, reject_path=reject)
    assert (report.inserted, report.rejected) == (0, 2)
    assert [tuple(r.values()) for r in read_rejects(reject)] == [
        ("2", "recorded_at", "2030-01-01T10:00:00+08:00", FUTURE),
        ("3", "recorded_at", "2030-01-01T10:00:00+08:00", FUTURE),
    ]
    # wechat_oa has no suppression list: only the ledger stands between c005 and a send.
    assert _reachable(pg, cid, "wechat_oa") == (False, False)
    assert _reachable(pg, cid, "sms") == (False, False)


def test_orders_and_events_dated_in_the_future_are_rejected(pg, make_file, read_rejects) -> None:
    import_file(pg, "customers", make_file("c.csv", "customer_id,phone\nC1,13800138001\n"))
    soon = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()  # within the clock skew
    orders = make_file(
        "o.csv",
        "order_id,customer_id,ordered_at,amount\n"
        f"O1,C1,{soon},10\nO2,C1,2030-01-01T10:00:00+08:00,10\n",
    )
    events = make_file(
        "e.csv",
        "event_id,customer_id,event_type,occurred_at\n"
        f"E1,C1,login,{soon}\nE2,C1,login,2030-01-01T10:00:00Z\n",
    )
    cases: tuple[tuple[Kind, Path, str, str], ...] = (
        ("orders", orders, "ordered_at", "2030-01-01T10:00:00+08:00"),
        ("events", events, "occurred_at", "2030-01-01T10:00:00Z"),
    )
    for kind, path, field, value in cases:
        reject = path.with_name(f"{kind}.rejects.csv")
        report = import_file(pg, kind, path, reject_path=reject)
        assert (report.inserted, report.rejected) == (1, 1), kind
        assert [tuple(r.values()) for r in read_rejects(reject)] == [("3", field, value, FUTURE)]
    with pg.connect() as conn:
        assert conn.execute(select(Order.external_id)).scalars().all() == ["O1"]
        assert len(conn.execute(select(BehaviorEvent.id)).all()) == 1


def test_an_id_repeated_in_one_file_keeps_its_first_row(pg, make_file, read_rejects) -> None:
    customers = make_file(
        "c.csv",
        "customer_id,phone,city\nC1,13800138001,上海\nC2,13900139002,北京\nC1,13700137003,广州\n",
    )
    reject = customers.with_name("c.rejects.csv")
    report = import_file(pg, "customers", customers, reject_path=reject)
    assert (report.inserted, report.updated, report.rejected) == (2, 0, 1)
    assert [tuple(r.values()) for r in read_rejects(reject)] == [
        ("4", "customer_id", "C1", "duplicate customer_id in this file, first on line 2")
    ]
    # The second O1 would move the order to C2; it lies in another chunk (chunk_rows=2).
    orders = make_file(
        "o.csv",
        "order_id,customer_id,ordered_at,amount\n"
        "O1,C1,2024-05-01T10:00:00+08:00,10\n"
        "O2,C2,2024-05-01T10:00:00+08:00,20\n"
        "O1,C2,2024-05-02T10:00:00+08:00,99\n",
    )
    events = make_file(
        "e.csv",
        "event_id,customer_id,event_type,occurred_at\n"
        "E1,C1,login,2024-05-01T10:00:00+08:00\n"
        "E1,C2,browse,2024-05-01T11:00:00+08:00\n"
        ",C2,browse,2024-05-01T11:00:00+08:00\n",
    )
    duplicates: tuple[tuple[Kind, Path, str, str, str, str], ...] = (
        ("orders", orders, "4", "order_id", "O1", "2"),
        ("events", events, "3", "event_id", "E1", "2"),
    )
    for kind, path, line, field, value, first in duplicates:
        reject = path.with_name(f"{kind}.rejects.csv")
        report = import_file(pg, kind, path, reject_path=reject, chunk_rows=2)
        assert (report.inserted, report.updated, report.rejected) == (2, 0, 1), kind
        assert [tuple(r.values()) for r in read_rejects(reject)] == [
            (line, field, value, f"duplicate {field} in this file, first on line {first}")
        ]
    with pg.connect() as conn:
        c1 = conn.execute(
            select(Customer.id, Customer.city).where(Customer.external_id == "C1")
        ).one()
        owner = conn.execute(
            select(Order.customer_id, Order.amount).where(Order.external_id == "O1")
        ).one()
        login = conn.execute(
            select(BehaviorEvent.customer_id, BehaviorEvent.event_type).order_by(BehaviorEvent.id)
        ).all()
    assert c1.city == "上海"
    assert (owner.customer_id, str(owner.amount)) == (c1.id, "10.00")
    assert [tuple(e) for e in login] == [(c1.id, "login"), (_customer_id(pg, "C2"), "browse")]


def test_reject_files_run_no_formula_and_keep_no_control_code(pg, make_file, read_rejects) -> None:
    import_file(pg, "customers", make_file("c.csv", "customer_id,phone\nC1,13800138001\n"))
    path = make_file(
        "o.csv",
        "order_id,customer_id,ordered_at,amount,category\n"
        'O1,C1,2024-05-01T10:00:00+08:00,"=HYPERLINK(""http://x.test"")",a\n'
        "O2,+SUM(1),2024-05-01T10:00:00+08:00,1,a\n"
        "O3,C1,@cmd,1,a\n"
        "O4,C1,2024-05-01T10:00:00+08:00,1,red\x1b[31m\x07\n",
    )
    reject = path.with_name("o.rejects.csv")
    assert import_file(pg, "orders", path, reject_path=reject).rejected == 4
    raw = reject.read_text(encoding="utf-8")
    assert "\x1b" not in raw and "\x07" not in raw
    assert [r["value"] for r in read_rejects(reject)] == [
        '\'=HYPERLINK("http://x.test")',
        "'+SUM(1)",
        "'@cmd",
        "red\\x1b[31m\\x07",
    ]


def test_export_profiles_runs_no_formula(lite, tmp_path: Path, make_file) -> None:
    ids = ['=HYPERLINK("http://x.test","x")', "+SUM(1)", "@cmd", "-2", "C1"]
    rows = "".join(f'"{i.replace(chr(34), chr(34) * 2)}",2024-01-05\n' for i in ids)
    import_file(lite, "customers", make_file("c.csv", "customer_id,registered_at\n" + rows))
    out = tmp_path / "profiles.csv"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "starter.py"),
            "export",
            "profiles",
            str(out),
            "--as-of",
            "2026-11-25",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, DATABASE_URL=str(lite.url)),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    with out.open(encoding="utf-8", newline="") as fh:
        exported = [r["customer_id"] for r in csv.DictReader(fh)]
    assert exported == ["'" + i for i in ids[:4]] + ["C1"]
