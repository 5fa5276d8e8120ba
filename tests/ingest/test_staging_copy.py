"""COPY text written by staging.encode reads back exactly, whatever the values hold."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine, select

from ingest import staging

HOSTILE = [
    "back\\slash",
    "\\N",
    "tab\there",
    "two\nlines",
    "cr\rhere",
    "'; DROP TABLE x; --",
    '"quoted", with comma',
    "\\x41",
    "顾客 ✓ \u200b",
    "trailing\\",
]


def _roundtrip(engine: Engine, table, records: list[dict]) -> list[tuple]:
    with engine.begin() as conn:
        staging.create(conn)
        staging.load(conn, table, encoded=staging.encode(table, records))
        rows = conn.execute(select(*(table.c[c] for c in records[0])).order_by(table.c.line)).all()
        staging.drop(conn)
    return [tuple(r) for r in rows]


def test_text_bytes_and_nulls_survive_copy(pg: Engine) -> None:
    records = [
        {
            "line": i,
            "external_id": value,
            "name_enc": value.encode() + b"\x00\\\n",
            "city": None if i % 2 else value,
            "birth_year": 1990 + i,
            "registered_at": datetime(2024, 5, 1, 10, i, tzinfo=UTC),
        }
        for i, value in enumerate(HOSTILE)
    ]
    rows = _roundtrip(pg, staging.CUSTOMERS, records)
    assert rows == [tuple(r.values()) for r in records]


def test_numbers_and_booleans_survive_copy(pg: Engine) -> None:
    orders = [
        {
            "line": 1,
            "record_key": "o\\1",
            "customer_ref": "c\t1",
            "external_id": "o\\1",
            "ordered_at": datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
            "amount": Decimal("1234.50"),
            "category": None,
            "store": "S\n1",
        }
    ]
    assert _roundtrip(pg, staging.ORDERS, orders) == [tuple(orders[0].values())]
    consents = [
        {
            "line": i,
            "record_key": "k",
            "customer_ref": "c",
            "channel": "sms",
            "purpose": "marketing",
            "granted": granted,
            "source": "pos",
            "wording_version": None,
            "recorded_at": datetime(2024, 1, 1, tzinfo=UTC),
        }
        for i, granted in enumerate((True, False))
    ]
    assert _roundtrip(pg, staging.CONSENTS, consents) == [tuple(c.values()) for c in consents]
