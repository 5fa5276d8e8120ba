"""Bulk inserts: one unnest statement per batch on PostgreSQL, the same rows as row by row."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    event,
    select,
)
from sqlalchemy.orm import Session

from db.upsert import insert_ignore, insert_new, insert_rows
from models.tables import UtcDateTime

AT = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def _tables() -> tuple[MetaData, Table, Table, Table]:
    suffix = uuid.uuid4().hex[:8]
    meta = MetaData()
    plain = Table(
        f"bulk_plain_{suffix}",
        meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("key", String(32), unique=True),
        Column("amount", Numeric(14, 4)),
        Column("blob", LargeBinary),
        Column("note", String(16)),
        Column("at", UtcDateTime),
    )
    documents = Table(
        f"bulk_json_{suffix}",
        meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("key", String(32), unique=True),
        Column("detail", JSON),
    )
    defaulted = Table(
        f"bulk_default_{suffix}",
        meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("key", String(32), unique=True),
        Column("kind", String(16), default="standard"),
    )
    return meta, plain, documents, defaulted


@pytest.fixture(params=["postgresql", "sqlite"])
def bulk(
    request: pytest.FixtureRequest, pg_engine: Engine
) -> Iterator[tuple[Engine, Table, Table, Table]]:
    engine = pg_engine if request.param == "postgresql" else create_engine("sqlite://")
    meta, plain, documents, defaulted = _tables()
    meta.create_all(engine)
    yield engine, plain, documents, defaulted
    meta.drop_all(engine)


def _rows(keys: range) -> list[dict[str, Any]]:
    return [
        {
            "key": f"k{i}",
            "amount": Decimal("0.0450") * i,
            "blob": bytes([i % 256, 0, 255]),
            "note": None if i % 2 else f"n{i}",
            "at": AT + timedelta(seconds=i),
        }
        for i in keys
    ]


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements sent to the database while inside."""
    seen: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def test_rows_arrive_exactly_and_conflicts_are_skipped(
    bulk: tuple[Engine, Table, Table, Table],
) -> None:
    engine, plain, _, _ = bulk
    with Session(engine) as session:
        assert insert_ignore(session, plain, _rows(range(1, 1001)), ["key"]) == 1000
        assert insert_ignore(session, plain, _rows(range(900, 1101)), ["key"]) == 100
        stored = session.execute(
            select(plain.c.key, plain.c.amount, plain.c.blob, plain.c.note, plain.c.at).order_by(
                plain.c.id
            )
        ).all()
        session.rollback()
    assert len(stored) == 1100
    assert [tuple(r) for r in stored] == [
        (r["key"], r["amount"], r["blob"], r["note"], r["at"]) for r in _rows(range(1, 1101))
    ]


def test_postgresql_takes_a_batch_in_one_statement(pg_engine: Engine) -> None:
    meta, plain, _, _ = _tables()
    meta.create_all(pg_engine)
    try:
        with _statements(pg_engine) as seen, Session(pg_engine) as session:
            insert_rows(session, plain, _rows(range(1, 1001)))
            insert_ignore(session, plain, _rows(range(1001, 2001)), ["key"])
            session.commit()
    finally:
        meta.drop_all(pg_engine)
    inserts = [s for s in seen if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 2
    assert all("unnest" in s for s in inserts)


HOSTILE = [
    'a "quoted" word',
    "back\\slash\\",
    "{brace},comma",
    "NULL",
    "",
    "张伟 ☃",
    "tab\tnew\nline",
]


def test_any_text_arrives_as_written(bulk: tuple[Engine, Table, Table, Table]) -> None:
    engine, plain, _, _ = bulk
    rows = _rows(range(1, len(HOSTILE) + 1))
    for row, note in zip(rows, HOSTILE, strict=True):
        row["key"] = note[:32] or "empty"
        row["note"] = note[:16]
    rows.append(_rows(range(99, 100))[0] | {"blob": b"", "amount": Decimal("1E+2")})
    with Session(engine) as session:
        insert_rows(session, plain, rows)
        stored = session.execute(
            select(plain.c.key, plain.c.note, plain.c.blob, plain.c.amount).order_by(plain.c.id)
        ).all()
        session.rollback()
    assert [tuple(r) for r in stored] == [
        (r["key"], r["note"], r["blob"], r["amount"]) for r in rows
    ]


def test_column_conversions_still_apply(bulk: tuple[Engine, Table, Table, Table]) -> None:
    engine, plain, _, _ = bulk
    naive = _rows(range(1, 3))
    naive[1]["at"] = datetime(2026, 12, 3, 9, 30)
    with Session(engine) as session, pytest.raises(Exception, match="naive datetime"):
        insert_rows(session, plain, naive)


def test_documents_and_client_defaults_keep_their_meaning(
    bulk: tuple[Engine, Table, Table, Table],
) -> None:
    engine, _, documents, defaulted = bulk
    with Session(engine) as session:
        rows = [{"key": f"d{i}", "detail": {"lines": [i, "二"]}} for i in range(3)]
        assert insert_ignore(session, documents, rows, ["key"]) == 3
        insert_rows(session, defaulted, [{"key": f"k{i}"} for i in range(3)])
        details = session.execute(select(documents.c.detail).order_by(documents.c.id)).scalars()
        kinds = session.execute(select(defaulted.c.kind)).scalars()
        assert list(details) == [{"lines": [i, "二"]} for i in range(3)]
        assert set(kinds) == {"standard"}
        session.rollback()


def test_insert_new_names_the_rows_it_inserted_and_documents_go_in_one_statement(
    pg_engine: Engine,
) -> None:
    meta, _, documents, _ = _tables()
    meta.create_all(pg_engine)
    try:
        with _statements(pg_engine) as seen, Session(pg_engine) as session:
            first = [{"key": f"d{i}", "detail": {"n": i, "s": 'a "q" \\ 二'}} for i in range(3)]
            assert insert_new(session, documents, first, ["key"], "id") == [1, 2, 3]
            again = [{"key": "d1", "detail": None}, {"key": "d9", "detail": None}]
            assert insert_new(session, documents, again, ["key"], "key") == ["d9"]
            stored = session.execute(
                select(documents.c.key, documents.c.detail).order_by(documents.c.id)
            ).all()
            session.rollback()
    finally:
        meta.drop_all(pg_engine)
    assert [tuple(r) for r in stored] == [(r["key"], r["detail"]) for r in first] + [("d9", None)]
    inserts = [s for s in seen if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 2 and all("unnest" in s for s in inserts)
