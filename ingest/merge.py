"""Find customers that are one person (same phone or same device id) and merge them.

The oldest profile (lowest id) survives. It keeps its own values and takes the duplicate's
where it has none (and the earlier registration time); every order, event, consent, tag… of
the duplicate moves to it; the duplicate's retailer id becomes an alias of it, so later rows
naming that id land on the merged profile. Each merge is logged in customer_merges.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, text

from ingest import staging
from ingest.repoint import Reference, customer_references, repoint
from models.tables import UtcDateTime

FILLED = (
    "name_enc",
    "phone_enc",
    "email_enc",
    "address_enc",
    "phone_index",
    "email_index",
    "device_id",
    "wechat_openid",
    "gender",
    "birth_year",
    "city",
    "district",
    "member_level",
    "home_store",
    "registered_at",
    "country",
)
MATCH_KEYS = {"phone": "phone_index", "device_id": "device_id"}

# Before a chunk, no two customers share a key (earlier chunks merged them), so a shared key
# involves a customer in ing_ids. Everything below probes indexes from that small set (scalar
# subqueries), never scanning customers, whatever the planner thinks of their sizes.
KEYS_OF_IDS = """
UPDATE ing_ids SET (phone_index, device_id) = (
    SELECT t.phone_index, t.device_id FROM customers t
    WHERE t.id = ing_ids.id AND t.erased_at IS NULL)"""
_GROUP = "(SELECT {agg}(h.id) FROM customers h WHERE h.{col} = y.k AND h.erased_at IS NULL)"
# Keys held by more than one customer: the touched holder, and the lowest and highest id. One
# probe per touched customer finds whether anyone else holds its key; only the few that share
# one are probed again for the group's ends.
SHARED = """
INSERT INTO ing_keys (matched_on, k, id, lo, hi)
SELECT '{how}', y.k, y.id, {lo}, {hi} FROM (
    SELECT i.id, i.{col} AS k FROM ing_ids i WHERE i.{col} IS NOT NULL AND EXISTS (
        SELECT 1 FROM customers o
        WHERE o.{col} = i.{col} AND o.id <> i.id AND o.erased_at IS NULL)
) y"""
# Links to the oldest holder: from each touched holder, and to a touched oldest holder from
# the (at most one) other customer that already had the key.
LINK_TOUCHED = (
    "INSERT INTO ing_edges (a, b, matched_on) SELECT id, lo, matched_on FROM ing_keys "
    "WHERE id <> lo"
)
LINK_OTHERS = """
INSERT INTO ing_edges (a, b, matched_on)
SELECT c.id, y.id, y.matched_on FROM ing_keys y JOIN customers c ON c.{col} = y.k
WHERE y.matched_on = '{how}' AND y.id = y.lo AND c.id <> y.id AND c.erased_at IS NULL"""
LABEL = (
    "INSERT INTO ing_labels (id, label) SELECT a, a FROM ing_edges UNION SELECT b, b FROM ing_edges"
)
# One step of min-label propagation: when no label changes, each label is the lowest id of its
# connected group (phone links one pair, a device id another: all of them are one person).
SPREAD = """
UPDATE ing_labels SET label = n.low FROM (
    SELECT x.id, MIN(l.label) AS low
    FROM (SELECT a AS id, b AS other FROM ing_edges UNION ALL SELECT b, a FROM ing_edges) x
    JOIN ing_labels l ON l.id = x.other GROUP BY x.id
) n WHERE ing_labels.id = n.id AND n.low < ing_labels.label"""
FIND = """
INSERT INTO ing_merge (dup_id, survivor_id, matched_on)
SELECT l.id, l.label, (SELECT MIN(e.matched_on) FROM ing_edges e WHERE e.a = l.id OR e.b = l.id)
FROM ing_labels l WHERE l.id <> l.label"""

DUPLICATES = (
    "SELECT m.survivor_id AS target_id, d.id AS ord, "
    + ", ".join(f"d.{c}" for c in FILLED)
    + " FROM ing_merge m JOIN customers d ON d.id = m.dup_id"
)


def fill_gaps(conn: Connection, source: str) -> None:
    """Give customers values they lack from `source` rows (target_id, ord, FILLED columns).

    One source row per customer at a time, in `ord` order, so several duplicates all count.
    """
    sets = [f"{c} = COALESCE(customers.{c}, r.{c})" for c in FILLED if c != "registered_at"]
    sets.append(
        "registered_at = CASE WHEN r.registered_at < customers.registered_at "
        "THEN r.registered_at ELSE COALESCE(customers.registered_at, r.registered_at) END"
    )
    ranked = (
        f"SELECT s.*, ROW_NUMBER() OVER (PARTITION BY s.target_id ORDER BY s.ord) AS rn "
        f"FROM ({source}) s"
    )
    rank = 1
    while conn.execute(
        text(
            f"UPDATE customers SET {', '.join(sets)} FROM ({ranked}) r "
            "WHERE customers.id = r.target_id AND r.rn = :rank"
        ),
        {"rank": rank},
    ).rowcount:
        rank += 1


def merge_duplicates(conn: Connection, run_id: int, now: datetime, keyed: bool = False) -> int:
    """Merge duplicates among the customers in ing_ids and their matches; returns merges.

    `keyed`: ing_ids holds the customers' current match keys already (else they are read).
    Repeats while a survivor gained a phone or device id (from its duplicates) that links it
    to yet another customer.
    """
    refs: list[Reference] | None = None
    merged = 0
    while True:
        staging.clear(conn, staging.KEYS, staging.EDGES, staging.LABELS, staging.MERGE)
        if not keyed:
            conn.execute(text(KEYS_OF_IDS))
        keyed = False
        shared = sum(
            conn.execute(
                text(
                    SHARED.format(
                        how=how,
                        col=col,
                        lo=_GROUP.format(agg="MIN", col=col),
                        hi=_GROUP.format(agg="MAX", col=col),
                    )
                )
            ).rowcount
            for how, col in MATCH_KEYS.items()
        )
        if not shared:
            return merged
        conn.execute(text(LINK_TOUCHED))
        for how, col in MATCH_KEYS.items():
            conn.execute(text(LINK_OTHERS.format(how=how, col=col)))
        conn.execute(text(LABEL))
        while conn.execute(text(SPREAD)).rowcount:
            pass
        conn.execute(text(FIND))
        refs = refs if refs is not None else customer_references(conn)
        merged += _merge(conn, refs, run_id, now)
        staging.clear(conn, staging.IDS)
        conn.execute(text("INSERT INTO ing_ids (id) SELECT DISTINCT survivor_id FROM ing_merge"))


def _merge(conn: Connection, refs: list[Reference], run_id: int, now: datetime) -> int:
    fill_gaps(conn, DUPLICATES)
    params = {"run": run_id, "now": now}
    stamp = bindparam("now", type_=UtcDateTime)
    conn.execute(
        text("""
        INSERT INTO customer_aliases (external_id, customer_id, run_id, created_at)
        SELECT d.external_id, m.survivor_id, :run, :now
        FROM ing_merge m JOIN customers d ON d.id = m.dup_id""").bindparams(stamp),
        params,
    )
    conn.execute(
        text("""
        INSERT INTO customer_merges (survivor_id, merged_customer_id, merged_external_id,
                                     matched_on, run_id, merged_at)
        SELECT m.survivor_id, m.dup_id, d.external_id, m.matched_on, :run, :now
        FROM ing_merge m JOIN customers d ON d.id = m.dup_id""").bindparams(stamp),
        params,
    )
    repoint(conn, refs)
    return conn.execute(
        text("DELETE FROM customers WHERE id IN (SELECT dup_id FROM ing_merge)")
    ).rowcount
