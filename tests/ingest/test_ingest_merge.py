"""Duplicate customers (same phone, same device id) become one profile with both histories."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import select, text

from ingest.run import import_file
from models.ingest_tables import CustomerAlias, CustomerMerge
from models.tables import BehaviorEvent, ConsentEvent, Customer, Order
from privacy.cipher import decrypt

HEAD = "customer_id,phone,email,device_id,registered_at,tags\n"


def _ids(engine, model, column="customer_id") -> list[int]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(getattr(model, column))).scalars())


def test_same_phone_in_one_file_is_one_profile(pg, make_file) -> None:
    rows = (
        "C1,13800138000,,D1,2023-03-01,vip\n"
        "C2,+86 138 0013 8000,c2@example.com,,2023-01-01,vip;kol\n"
    )
    report = import_file(pg, "customers", make_file("c.csv", HEAD + rows))
    assert (report.inserted, report.merged) == (2, 1)
    with pg.connect() as conn:
        survivor = conn.execute(select(Customer)).one()
        merge = conn.execute(select(CustomerMerge)).one()
        tags = conn.execute(text("SELECT tag FROM customer_tags ORDER BY tag")).scalars().all()
    assert survivor.external_id == "C1"
    assert decrypt(survivor.email_enc, "email") == "c2@example.com"  # gap filled
    assert survivor.registered_at == datetime(2022, 12, 31, 16, tzinfo=UTC)  # the earlier one
    assert (merge.merged_external_id, merge.matched_on, merge.survivor_id) == (
        "C2",
        "phone",
        survivor.id,
    )
    assert tags == ["kol", "vip"]


def test_a_late_duplicate_takes_its_history_along(pg, make_file, counts) -> None:
    import_file(
        pg,
        "customers",
        make_file("c1.csv", HEAD + "A,13800138000,,,2023-01-01,\nB,,,DEV-B,2023-01-01,\n"),
    )
    import_file(
        pg,
        "orders",
        make_file(
            "o.csv",
            "order_id,customer_id,ordered_at,amount\n"
            "OA,A,2023-05-01T10:00:00+08:00,10\n"
            "OB,B,2023-05-02T10:00:00+08:00,20\n",
        ),
    )
    import_file(
        pg,
        "events",
        make_file(
            "e.csv",
            "customer_id,event_type,occurred_at\n"
            "A,login,2023-05-01T09:00:00+08:00\n"
            "B,browse,2023-05-01T09:00:00+08:00\n",
        ),
    )
    import_file(
        pg,
        "consents",
        make_file(
            "k.csv",
            "customer_id,channel,purpose,granted,source,"
            "recorded_at\nB,sms,marketing,true,pos,"
            "2023-05-01T09:00:00+08:00\n",
        ),
    )
    assert len(set(_ids(pg, Order))) == 2
    # B's phone arrives later and is A's: B is folded into A with all it has.
    report = import_file(pg, "customers", make_file("c2.csv", HEAD + "B,13800138000,,,,\n"))
    assert (report.updated, report.merged) == (1, 1)
    with pg.connect() as conn:
        a = conn.execute(select(Customer)).one()
        alias = conn.execute(select(CustomerAlias.external_id, CustomerAlias.customer_id)).one()
    assert (a.external_id, a.device_id) == ("A", "DEV-B")
    assert tuple(alias) == ("B", a.id)
    assert _ids(pg, Order) == [a.id, a.id]
    assert _ids(pg, BehaviorEvent) == [a.id, a.id]
    assert _ids(pg, ConsentEvent) == [a.id]
    # Later rows that name B land on A; importing the same files again changes nothing.
    before = counts(pg)
    again = import_file(
        pg,
        "orders",
        make_file(
            "o.csv",
            "order_id,customer_id,ordered_at,amount\n"
            "OB,B,2023-05-02T10:00:00+08:00,20\n"
            "OB2,B,2023-06-02T10:00:00+08:00,5\n",
        ),
    )
    assert (again.inserted, again.unchanged, again.rejected) == (1, 1, 0)
    assert _ids(pg, Order) == [a.id] * 3
    redo = import_file(
        pg,
        "customers",
        make_file("c3.csv", HEAD + "A,13800138000,,,2023-01-01,\nB,13800138000,,DEV-B,,kol\n"),
    )
    assert (redo.inserted, redo.updated, redo.merged) == (0, 2, 0)
    assert counts(pg)["customers"] == before["customers"] == 1
    with pg.connect() as conn:  # a tag on a row naming B is A's
        assert conn.execute(text("SELECT customer_id, tag FROM customer_tags")).all() == [
            (a.id, "kol")
        ]


def test_rows_naming_an_erased_profile_through_its_alias_are_rejected(
    pg, make_file, read_rejects
) -> None:
    import_file(
        pg,
        "customers",
        make_file("c.csv", HEAD + "A,13800138000,,,2023-01-01,\nB,13800138000,,,2023-02-01,\n"),
    )
    with pg.begin() as conn:
        conn.execute(
            text("UPDATE customers SET phone_enc = NULL, phone_index = NULL, erased_at = now()")
        )
    rejects = make_file("r.csv", "").with_name("again.rejects.csv")
    report = import_file(
        pg,
        "customers",
        make_file("c2.csv", HEAD + "B,13900139000,,,,vip\nN,13900139000,,,,\n"),
        reject_path=rejects,
    )
    assert (report.rejected, report.inserted, report.merged) == (1, 1, 0)
    assert [(r["line"], r["value"]) for r in read_rejects(rejects)] == [("2", "B")]
    with pg.connect() as conn:
        rows = conn.execute(
            select(Customer.external_id, Customer.erased_at.is_not(None)).order_by(Customer.id)
        ).all()
        assert conn.execute(text("SELECT count(*) FROM customer_tags")).scalar_one() == 0
    assert [tuple(r) for r in rows] == [("A", True), ("N", False)]


def test_same_device_and_chains_across_chunks(pg, make_file) -> None:
    rows = (
        "A,13800138000,,,2023-01-01,\n"
        "B,13900139000,,DEV-1,2023-01-01,\n"
        "C,13700137000,,,2023-01-01,\n"
        "D,13700137000,,DEV-1,2023-01-01,\n"
        "E,13800138000,,DEV-2,2023-01-01,\n"
    )
    report = import_file(pg, "customers", make_file("c.csv", HEAD + rows), chunk_rows=2)
    with pg.connect() as conn:
        merges = conn.execute(
            select(CustomerMerge.merged_external_id, CustomerMerge.matched_on).order_by(
                CustomerMerge.merged_external_id
            )
        ).all()
        left = conn.execute(select(Customer.external_id).order_by(Customer.id)).scalars().all()
    # B and D share DEV-1, C and D share a phone: B, C, D are one person; A and E another.
    assert left == ["A", "B"]
    assert report.merged == 3
    assert [tuple(m) for m in merges] == [("C", "phone"), ("D", "device_id"), ("E", "phone")]


def test_two_files_imported_at_once_still_merge_one_person(pg, make_file) -> None:
    """Each import waits (inside its transaction, after its first chunk) for the other to get
    that far too, up to a timeout: without turns taken, neither sees the other's profile."""
    meet = threading.Barrier(2, timeout=3)

    def wait_for_the_other(_rows: int) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            meet.wait()

    files = [
        make_file("a.csv", HEAD + "A,13800138000,,,2023-01-01,\n"),
        make_file("b.csv", HEAD + "B,+86 138-0013-8000,b@example.com,,2024-01-01,\n"),
    ]
    with ThreadPoolExecutor(2) as pool:
        reports = list(
            pool.map(lambda f: import_file(pg, "customers", f, progress=wait_for_the_other), files)
        )
    assert sum(r.merged for r in reports) == 1
    with pg.connect() as conn:
        survivor = conn.execute(select(Customer)).one()
        alias = conn.execute(select(CustomerAlias)).one()
    assert decrypt(survivor.email_enc, "email") == "b@example.com"
    assert {survivor.external_id, alias.external_id} == {"A", "B"}


def test_a_merge_waits_for_an_orders_import_naming_the_duplicate(pg, make_file) -> None:
    """Orders carry no foreign key: an orders import shares the customer-import lock, so the
    import that merges B away waits, then moves B's new orders too. The orders import holds
    its transaction open until the customer import is done, or for 2 s while it is held off."""
    import_file(
        pg,
        "customers",
        make_file("ab.csv", HEAD + "A,13800138000,,,2023-01-01,\nB,13900139000,,,2024-01-01,\n"),
    )
    orders = make_file(
        "o.csv", "order_id,customer_id,ordered_at,amount\nO1,B,2024-05-01T10:00:00+08:00,10.00\n"
    )
    writing, merged = threading.Event(), threading.Event()

    def hold(_rows: int) -> None:
        writing.set()
        merged.wait(2)

    def merge_b_into_a() -> None:
        writing.wait(10)
        import_file(pg, "customers", make_file("b.csv", HEAD + "B,13800138000,,,2024-01-01,\n"))
        merged.set()

    with ThreadPoolExecutor(2) as pool:
        done: list[Future[object]] = [
            pool.submit(import_file, pg, "orders", orders, progress=hold),
            pool.submit(merge_b_into_a),
        ]
        for future in done:
            future.result()
    with pg.connect() as conn:
        survivor = conn.execute(select(Customer)).one()
        owners = conn.execute(select(Order.customer_id)).scalars().all()
    assert survivor.external_id == "A"
    assert owners == [survivor.id]  # moved to the survivor, not left on the deleted B
