"""Temporary staging tables, filled a chunk at a time: COPY on PostgreSQL, executemany on SQLite.

Every write to the real tables is then one set-based INSERT … SELECT / UPDATE from these, the
same SQL on both databases.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    Text,
    text,
)
from sqlalchemy.types import TypeEngine

from models.tables import UtcDateTime

META = MetaData()
COPY_READ_BYTES = 1 << 20  # psycopg2 reads COPY data in 8 KiB calls by default


def _stage(name: str, *columns: Column[Any]) -> Table:
    return Table(name, META, Column("line", Integer), *columns, prefixes=["TEMPORARY"])


def _ref() -> tuple[Column[Any], ...]:
    return (
        Column("record_key", Text),
        Column("customer_ref", Text),
        Column("customer_id", BigInteger),
    )


CUSTOMERS = _stage(
    "ing_customers",
    Column("external_id", Text),
    *(Column(c, LargeBinary) for c in ("name_enc", "phone_enc", "email_enc", "address_enc")),
    *(
        Column(c, Text)
        for c in (
            "phone_index",
            "email_index",
            "device_id",
            "wechat_openid",
            "gender",
            "city",
            "district",
            "member_level",
            "home_store",
            "timezone",
            "country",
        )
    ),
    Column("birth_year", Integer),
    Column("registered_at", UtcDateTime),
)
ORDERS = _stage(
    "ing_orders",
    *_ref(),
    Column("external_id", Text),
    Column("ordered_at", UtcDateTime),
    Column("amount", Numeric(12, 2)),
    Column("category", Text),
    Column("store", Text),
    Column("registered_at", UtcDateTime),
)
EVENTS = _stage(
    "ing_events",
    *_ref(),
    Column("event_key", Text),
    Column("event_type", Text),
    Column("occurred_at", UtcDateTime),
    Column("channel", Text),
)
CONSENTS = _stage(
    "ing_consents",
    *_ref(),
    Column("channel", Text),
    Column("purpose", Text),
    Column("granted", Boolean),
    Column("source", Text),
    Column("wording_version", Text),
    Column("recorded_at", UtcDateTime),
)
TAGS = Table(
    "ing_tags", META, Column("external_id", Text), Column("tag", Text), prefixes=["TEMPORARY"]
)
FLAGS = _stage(
    "ing_flags",
    Column("record_key", Text),
    Column("customer_ref", Text),
    Column("code", Text),
    Column("detail", Text),
)
IDS = Table(
    "ing_ids",
    META,
    Column("id", BigInteger),
    Column("external_id", Text),
    Column("phone_index", Text),
    Column("device_id", Text),
    prefixes=["TEMPORARY"],
)
KEYS = Table(
    "ing_keys",
    META,
    Column("matched_on", Text),
    Column("k", Text),
    Column("id", BigInteger),
    Column("lo", BigInteger),
    Column("hi", BigInteger),
    prefixes=["TEMPORARY"],
)
MERGE = Table(
    "ing_merge",
    META,
    Column("dup_id", BigInteger),
    Column("survivor_id", BigInteger),
    Column("matched_on", Text),
    prefixes=["TEMPORARY"],
)
EDGES = Table(
    "ing_edges",
    META,
    Column("a", BigInteger),
    Column("b", BigInteger),
    Column("matched_on", Text),
    prefixes=["TEMPORARY"],
)
LABELS = Table(
    "ing_labels",
    META,
    Column("id", BigInteger),
    Column("label", BigInteger),
    prefixes=["TEMPORARY"],
)
BY_KIND = {"customers": CUSTOMERS, "orders": ORDERS, "events": EVENTS, "consents": CONSENTS}
ALL = (CUSTOMERS, ORDERS, EVENTS, CONSENTS, TAGS, FLAGS, IDS, KEYS, MERGE, EDGES, LABELS)


def create(conn: Connection) -> None:
    """Fresh, empty staging tables on this connection (leftovers of a failed run are dropped).

    On PostgreSQL, for this transaction only: random page reads priced as the cached reads
    they are during an import, so a chunk is joined to a big table by index lookups rather
    than a full scan (JIT is off for every connection: db.engine).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL random_page_cost = 1.1"))
    for table in ALL:
        table.drop(conn, checkfirst=True)
        table.create(conn)


def drop(conn: Connection) -> None:
    for table in ALL:
        table.drop(conn, checkfirst=True)


def analyze(conn: Connection, tables: Sequence[str]) -> None:
    """Refresh PostgreSQL's statistics of tables this import is filling, so the planner keeps
    using indexes as they grow inside the import's transaction (a fresh table has none)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ANALYZE {', '.join(tables)}"))


def clear(conn: Connection, *tables: Table) -> None:
    verb = "TRUNCATE" if conn.dialect.name == "postgresql" else "DELETE FROM"
    for table in tables:
        conn.execute(text(f"{verb} {table.name}"))


@dataclass(frozen=True, slots=True)
class Encoded:
    """Staging records as COPY text, with the columns it fills in order."""

    columns: tuple[str, ...]
    text: str


def encode(table: Table, records: Sequence[dict[str, Any]]) -> Encoded:
    """Records as COPY text (PostgreSQL's default format): tab-separated, `\\N` for None,
    bytes as bytea hex, text escaped only where it holds a backslash, tab or line break.

    Pure Python with no connection, so it can run ahead of the writer, even in another process.
    """
    if not records:
        return Encoded((), "")
    columns = tuple(records[0])
    convert = [_CONVERTERS.get(type(table.c[c].type), str) for c in columns]
    lines = [
        "\t".join([_NULL if v is None else f(v) for f, v in zip(convert, r.values(), strict=True)])
        for r in records
    ]
    lines.append("")
    return Encoded(columns, "\n".join(lines))


def load(
    conn: Connection,
    table: Table,
    records: Sequence[dict[str, Any]] = (),
    encoded: Encoded | None = None,
) -> None:
    """Append records (dicts keyed by column name, all with the same keys) to a staging table:
    COPY on PostgreSQL (of `encoded`, their `encode`d form, if it was made already)."""
    if encoded is None:
        if not records:
            return
        if conn.dialect.name != "postgresql":
            conn.execute(table.insert(), list(records))
            return
        encoded = encode(table, records)
    if not encoded.text:
        return
    raw = conn.connection.dbapi_connection
    assert raw is not None, "a connection in use has its DBAPI connection"
    cursor = raw.cursor()
    try:
        cursor.copy_expert(
            f"COPY {table.name} ({', '.join(encoded.columns)}) FROM STDIN",
            io.StringIO(encoded.text),
            size=COPY_READ_BYTES,
        )
    finally:
        cursor.close()


def _text(value: str) -> str:
    return value.translate(_ESCAPES) if _SPECIAL.search(value) else value


def _bytea(value: bytes) -> str:
    return "\\\\x" + value.hex()


def _boolean(value: bool) -> str:
    return "t" if value else "f"


_NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = re.compile(r"[\\\t\n\r]")
# How each column type is written; anything else (numbers, timestamps) by its str().
_CONVERTERS: dict[type[TypeEngine[Any]], Callable[[Any], str]] = {
    Text: _text,
    LargeBinary: _bytea,
    Boolean: _boolean,
}
