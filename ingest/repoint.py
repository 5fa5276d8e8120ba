"""Move every row that points at a merged-away customer over to the surviving profile.

The referencing tables are found by reflecting the database's foreign keys to customers.id,
so tables added by other parts of the system are covered without listing them here. Where a
unique key includes the customer column (tags, profiles, audience memberships), the duplicate's
row is dropped if the survivor already has the same one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, inspect, text

from models.tables import (
    AudienceMember,
    BehaviorEvent,
    CustomerProfile,
    CustomerTag,
    Delivery,
    Order,
    PlannedSend,
)

MERGE = "ing_merge"
# Each survivor with itself and its duplicates: the ids whose rows become one customer's.
GROUPS = (
    f"SELECT survivor_id AS grp, survivor_id AS member FROM {MERGE} "
    f"UNION SELECT survivor_id, dup_id FROM {MERGE}"
)
UNDECLARED = {
    table.__tablename__: "customer_id"
    for table in (
        Delivery,
        PlannedSend,
        AudienceMember,
        CustomerProfile,
        CustomerTag,
        Order,
        BehaviorEvent,
    )
}  # bulk or derived tables that skip the per-row foreign key check


@dataclass(frozen=True)
class Reference:
    """A column holding customer ids, and the other columns of each unique key it is part of."""

    table: str
    column: str
    peers: tuple[tuple[str, ...], ...]


def customer_references(conn: Connection) -> list[Reference]:
    insp = inspect(conn)
    fks = insp.get_multi_foreign_keys()
    pks = insp.get_multi_pk_constraint()
    uniques = insp.get_multi_unique_constraints()
    indexes = insp.get_multi_indexes()
    refs = []
    for key in pks.keys() | fks.keys():  # tables without foreign keys are not in `fks`
        table, table_fks = key[1], fks.get(key, [])
        if table == "customers":
            continue
        columns = {
            fk["constrained_columns"][0]
            for fk in table_fks
            if fk["referred_table"] == "customers"
            and fk["referred_columns"] == ["id"]
            and len(fk["constrained_columns"]) == 1
        }
        if table in UNDECLARED:
            columns.add(UNDECLARED[table])
        keys: list[list[str | None]] = (
            [list(pks[key]["constrained_columns"])] if pks.get(key) else []
        )
        keys += [list(u["column_names"]) for u in uniques.get(key, [])]
        keys += [list(i["column_names"]) for i in indexes.get(key, []) if i["unique"]]
        for column in sorted(columns):
            peers = {tuple(str(c) for c in k if c != column) for k in keys if column in k}
            refs.append(Reference(table, column, tuple(sorted(peers))))
    return refs


def repoint(conn: Connection, refs: list[Reference]) -> None:
    """Apply the pairs in ing_merge (dup_id → survivor_id) to every referencing table."""
    q = conn.dialect.identifier_preparer.quote
    for ref in refs:
        t, c = q(ref.table), q(ref.column)
        for peers in ref.peers:
            same = "".join(f" AND t2.{q(p)} = {t}.{q(p)}" for p in peers)
            # Keep the row of the lowest id among the survivor and its duplicates.
            conn.execute(
                text(f"""
                DELETE FROM {t} WHERE {c} IN (SELECT dup_id FROM {MERGE}) AND EXISTS (
                    SELECT 1 FROM {MERGE} m JOIN ({GROUPS}) g ON g.grp = m.survivor_id
                    JOIN {t} t2 ON t2.{c} = g.member
                    WHERE m.dup_id = {t}.{c} AND g.member < {t}.{c}{same})""")
            )
        conn.execute(
            text(f"""
            UPDATE {t} SET {c} = (SELECT m.survivor_id FROM {MERGE} m WHERE m.dup_id = {t}.{c})
            WHERE {c} IN (SELECT dup_id FROM {MERGE})""")
        )
