"""Behavior events and consents: validation, idempotent re-import, the append-only ledger."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import Engine, select

from ingest.run import import_file
from models.ingest_tables import ImportFlag
from models.tables import BehaviorEvent, ConsentEvent, Customer, Order

CUSTOMERS = "customer_id,phone\nC1,13800138000\nC2,13900139000\n"


def _setup(pg, make_file) -> None:
    import_file(pg, "customers", make_file("c.csv", CUSTOMERS))


def test_events_reject_unknown_types_and_dedupe(pg, make_file, read_rejects, counts) -> None:
    _setup(pg, make_file)
    rows = (
        "event_id,customer_id,event_type,occurred_at,channel\n"
        "E1,C1,login,2024-01-01T09:00:00+08:00,app\n"
        "E2,C1,teleport,2024-01-01T09:00:00+08:00,app\n"
        "E3,C9,login,2024-01-01T09:00:00+08:00,app\n"
        ",C2,message_open,2024-01-02T20:00:00+08:00,sms\n"
        ",C2,message_open,2024-01-02T20:00:00+08:00,sms\n"
        "E1,C1,login,2024-01-01T09:00:00+08:00,app\n"
    )
    path = make_file("e.csv", rows)
    reject = path.with_name("e.rejects.csv")
    report = import_file(pg, "events", path, reject_path=reject)
    assert (report.rows_read, report.inserted, report.unchanged, report.rejected) == (6, 2, 1, 3)
    assert [(r["line"], r["field"], r["value"]) for r in read_rejects(reject)] == [
        ("3", "event_type", "teleport"),
        ("4", "customer_id", "C9"),
        ("7", "event_id", "E1"),
    ]
    before = counts(pg)
    again = import_file(pg, "events", path)
    assert (again.inserted, again.unchanged) == (0, 3)
    assert counts(pg) == before
    with pg.connect() as conn:
        kinds = conn.execute(
            select(BehaviorEvent.event_type, BehaviorEvent.channel).order_by(BehaviorEvent.id)
        ).all()
    assert [tuple(k) for k in kinds] == [("login", "app"), ("message_open", "sms")]


CONSENT_HEAD = "customer_id,channel,purpose,granted,source,wording_version,recorded_at,pre_ticked\n"


def _ledger(pg: Engine) -> list[tuple[str, str, bool, str | None]]:
    with pg.connect() as conn:
        rows = conn.execute(
            select(
                Customer.external_id,
                ConsentEvent.channel,
                ConsentEvent.granted,
                ConsentEvent.wording_version,
            )
            .join(Customer, Customer.id == ConsentEvent.customer_id)
            .order_by(ConsentEvent.id)
        ).all()
    return [(who, channel, granted, wording) for who, channel, granted, wording in rows]


def test_consents_append_only_changes(pg, make_file, read_rejects) -> None:
    _setup(pg, make_file)
    rows = (
        "C1,sms,marketing,true,pos,v1,2024-01-01T10:00:00+08:00,\n"
        "C1,sms,marketing,true,app,v1,2024-01-02T10:00:00+08:00,\n"
        "C1,sms,marketing,false,sms_reply,v1,2024-01-03T10:00:00+08:00,\n"
        "C1,email,marketing,true,web,v2,2024-01-01T10:00:00+08:00,\n"
        "C2,sms,marketing,true,pos,v1,2024-01-01T10:00:00+08:00,true\n"
        "C2,email,marketing,true,bundled,v1,2024-01-01T10:00:00+08:00,\n"
        "C2,fax,marketing,true,pos,v1,2024-01-01T10:00:00+08:00,\n"
        "C2,sms,newsletter,yes,pos,v1,2024-01-01T10:00:00+08:00,\n"
    )
    path = make_file("k.csv", CONSENT_HEAD + rows)
    reject = path.with_name("k.rejects.csv")
    report = import_file(pg, "consents", path, reject_path=reject)
    assert (report.inserted, report.unchanged, report.rejected, report.flagged) == (5, 1, 2, 2)
    assert _ledger(pg) == [
        ("C1", "sms", True, "v1"),
        ("C1", "email", True, "v2"),
        ("C2", "sms", False, "v1"),
        ("C2", "email", False, "v1"),
        ("C1", "sms", False, "v1"),
    ]
    assert [(r["line"], r["field"]) for r in read_rejects(reject)] == [
        ("8", "channel"),
        ("9", "purpose"),
        ("9", "granted"),
    ]
    with pg.connect() as conn:
        codes = conn.execute(select(ImportFlag.code).distinct()).scalars().all()
    assert codes == ["consent_not_valid"]
    # The same file again, and an old grant from before the opt-out: the ledger stays as it is.
    assert import_file(pg, "consents", path).inserted == 0
    stale = CONSENT_HEAD + "C1,sms,marketing,true,pos,v1,2023-12-01T10:00:00+08:00,\n"
    assert import_file(pg, "consents", make_file("old.csv", stale)).unchanged == 1
    newer = CONSENT_HEAD + "C1,email,marketing,true,web,v3,2024-02-01T10:00:00+08:00,\n"
    assert import_file(pg, "consents", make_file("new.csv", newer)).inserted == 1
    assert len(_ledger(pg)) == 6


def test_json_lines_for_every_kind(pg, make_file, read_rejects) -> None:
    def jsonl(*objs: object) -> str:
        return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs)

    customers = jsonl(
        {"customer_id": "J1", "phone": "+8613800138000", "tags": ["vip", "kol"]},
        {"customer_id": "J2", "email": "not-an-email"},
    )
    report = import_file(pg, "customers", make_file("c.jsonl", customers))
    assert (report.inserted, report.rejected) == (1, 1)
    orders = (
        "\n"
        + jsonl(
            {
                "order_id": "O1",
                "customer_id": "J1",
                "ordered_at": "2024-01-01T10:00:00Z",
                "amount": 12.5,
            },
            {
                "order_id": "O2",
                "customer_id": "J1",
                "ordered_at": "2024-01-01T10:00:00Z",
                "amount": 1.005,
            },
        )
        + "[1]\n"
    )
    path = make_file("o.ndjson", orders)
    reject = path.with_name("o.rejects.csv")
    report = import_file(pg, "orders", path, reject_path=reject)
    assert (report.inserted, report.rejected) == (1, 2)
    assert [(r["line"], r["reason"]) for r in read_rejects(reject)] == [
        ("3", "more than 2 decimal places"),
        ("4", "not a JSON object"),
    ]
    events = jsonl({"customer_id": "J1", "event_type": "browse", "occurred_at": "2024-01-01 10:00"})
    consents = jsonl(
        {
            "customer_id": "J1",
            "channel": "sms",
            "purpose": "marketing",
            "granted": True,
            "source": "app",
            "recorded_at": "2024-01-01T10:00:00Z",
        }
    )
    assert import_file(pg, "events", make_file("e.jsonl", events)).inserted == 1
    assert import_file(pg, "consents", make_file("k.jsonl", consents)).inserted == 1
    with pg.connect() as conn:
        assert conn.execute(select(Order.amount)).scalar_one() == Decimal("12.50")
        assert conn.execute(select(ConsentEvent.granted)).scalar_one() is True
