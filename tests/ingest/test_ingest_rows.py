"""Bad rows are rejected (line, field, masked value, reason), odd rows flagged, the rest imported."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select, text

from ingest.columns import Kind
from ingest.parse import PHONE_RULE
from ingest.run import import_file
from models.ingest_tables import ImportFlag
from models.tables import Customer, Order
from privacy.blind_index import blind_index
from privacy.cipher import decrypt

CUSTOMERS = """customer_id,name,phone,email,gender,birthday,address,registered_at,tags
C1,张三丰,+86 138-0013-8000,zhang.san@example.com,男,1990-01-02,"上海市静安区
南京西路1号",2023-01-01T10:00:00+08:00,vip;新客
C2,李四,1381234567,li.si@example.com,F,1985-05-05,,2023-02-01,
C3,王五,13900139000,wang.wu@@example,M,1985-02-30,,2023-02-01,
C4,赵六,13700137000,,X,2099-01-01,,yesterday,
C5,钱七,13600136000,,F,2099-01-01,,2023-03-01,
C6,孙八,13500135000,,M,1880-06-01,,2023-03-01 08:00,
C7,周九
"""


def _by_line(rows: list[dict[str, str]]) -> dict[str, list[tuple[str, str, str]]]:
    out: dict[str, list[tuple[str, str, str]]] = {}
    for r in rows:
        out.setdefault(r["line"], []).append((r["field"], r["value"], r["reason"]))
    return out


def test_customers_bad_rows_go_to_the_reject_file_masked(pg, make_file, read_rejects) -> None:
    path = make_file("customers.csv", CUSTOMERS)
    reject = path.with_name("customers.rejects.csv")
    report = import_file(pg, "customers", path, reject_path=reject)
    assert (report.rows_read, report.inserted, report.rejected) == (7, 3, 4)
    rejects = _by_line(read_rejects(reject))
    # The quoted two-line address shifts every later line number by one.
    assert rejects == {
        "4": [("phone", "138****4567", PHONE_RULE)],
        "5": [
            ("email", "w***@@example", "not a valid email address"),
            ("birthday", "1985-02-30", "not a real calendar date"),
        ],
        "6": [
            ("gender", "X", "must be M, F, 男 or 女"),
            (
                "registered_at",
                "yesterday",
                "not an ISO 8601 date-time (e.g. 2024-05-01T10:30:00+08:00)",
            ),
        ],
        "9": [("", "", "expected 9 fields, found 2")],
    }
    raw = reject.read_text(encoding="utf-8")
    assert "1381234567" not in raw and "wang.wu" not in raw


def test_customers_are_encrypted_indexed_and_tagged(pg, make_file) -> None:
    import_file(pg, "customers", make_file("c.csv", CUSTOMERS))
    with pg.connect() as conn:
        c1 = conn.execute(select(Customer).where(Customer.external_id == "C1")).one()
        tags = conn.execute(text("SELECT tag FROM customer_tags ORDER BY tag")).scalars().all()
    assert decrypt(c1.name_enc, "name") == "张三丰"
    assert decrypt(c1.phone_enc, "phone") == "13800138000"
    assert c1.phone_index == blind_index("phone", "13800138000")
    assert decrypt(c1.address_enc, "address") == "上海市静安区 南京西路1号"
    assert c1.email_index == blind_index("email", "Zhang.San@example.com")
    assert (c1.gender, c1.birth_year, c1.timezone) == ("M", 1990, "Asia/Shanghai")
    assert c1.registered_at == datetime(2023, 1, 1, 2, 0, tzinfo=UTC)
    assert tags == ["vip", "新客"]


def test_odd_customers_are_flagged_and_imported(pg, make_file) -> None:
    report = import_file(pg, "customers", make_file("c.csv", CUSTOMERS))
    assert report.flagged == 2
    with pg.connect() as conn:
        flags = conn.execute(
            select(ImportFlag.record_key, ImportFlag.line, ImportFlag.code).order_by(
                ImportFlag.line
            )
        ).all()
    assert flags == [("C5", 7, "birthday_in_future"), ("C6", 8, "age_over_120")]


ORDERS = """order_id,customer_id,ordered_at,amount,category,store
O1,C1,2023-05-01T12:00:00+08:00,100.50,shoes,S1
O2,C1,2023-05-01T12:00:00+08:00,-5,shoes,S1
O3,C1,2023-05-01T12:00:00+08:00,5.555,shoes,S1
O4,C1,2023-05-01T12:00:00+08:00,"1,234.00",shoes,S1
O5,C1,2023/05/01,10,shoes,S1
O6,NOBODY,2023-05-01T12:00:00+08:00,10,shoes,S1
,C1,2023-05-01T12:00:00+08:00,10,shoes,S1
O8,C1,2022-12-31T23:00:00+08:00,0,bags,S2
"""


def test_orders_bad_rows_and_order_before_registration(pg, make_file, read_rejects) -> None:
    import_file(pg, "customers", make_file("c.csv", CUSTOMERS))
    path = make_file("orders.csv", ORDERS)
    reject = path.with_name("orders.rejects.csv")
    report = import_file(pg, "orders", path, reject_path=reject)
    assert (report.rows_read, report.inserted, report.rejected, report.flagged) == (8, 2, 6, 1)
    assert _by_line(read_rejects(reject)) == {
        "3": [("amount", "'-5", "negative amount")],  # never a formula in a spreadsheet
        "4": [("amount", "5.555", "more than 2 decimal places")],
        "5": [("amount", "1,234.00", "not a decimal number (digits and an optional '.')")],
        "6": [
            (
                "ordered_at",
                "2023/05/01",
                "not an ISO 8601 date-time (e.g. 2024-05-01T10:30:00+08:00)",
            )
        ],
        "7": [("customer_id", "NOBODY", "unknown customer_id (import the customer first)")],
        "8": [("order_id", "", "required value is missing")],
    }
    with pg.connect() as conn:
        orders = conn.execute(select(Order.external_id, Order.amount).order_by(Order.id)).all()
        flag = conn.execute(
            select(ImportFlag.record_key, ImportFlag.code).where(ImportFlag.kind == "orders")
        ).one()
    assert orders == [("O1", Decimal("100.50")), ("O8", Decimal("0.00"))]
    assert tuple(flag) == ("O8", "order_before_registration")


def test_reimport_is_idempotent(pg, make_file, counts) -> None:
    files: dict[Kind, Path] = {
        "customers": make_file("c.csv", CUSTOMERS),
        "orders": make_file("o.csv", ORDERS),
    }
    first = {kind: import_file(pg, kind, path) for kind, path in files.items()}
    after_first = counts(pg)
    again = {kind: import_file(pg, kind, path) for kind, path in files.items()}
    assert counts(pg) == after_first
    assert (again["customers"].inserted, again["customers"].updated) == (0, 3)
    assert (again["orders"].inserted, again["orders"].updated, again["orders"].unchanged) == (
        0,
        0,
        2,
    )
    assert again["orders"].flagged == first["orders"].flagged == 1


def test_an_order_changed_in_a_later_file_is_updated(pg, make_file) -> None:
    import_file(pg, "customers", make_file("c.csv", CUSTOMERS))
    import_file(pg, "orders", make_file("o.csv", ORDERS))
    changed = "order_id,customer_id,ordered_at,amount\nO1,C1,2023-05-01T12:00:00+08:00,99.00\n"
    report = import_file(pg, "orders", make_file("o2.csv", changed))
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 0)
    with pg.connect() as conn:
        o1 = conn.execute(select(Order).where(Order.external_id == "O1")).one()
    assert (o1.amount, o1.category) == (Decimal("99.00"), None)


def test_progress_is_reported_per_batch(pg, make_file) -> None:
    import_file(pg, "customers", make_file("c.csv", CUSTOMERS))
    rows = "".join(f"O{i},C1,2023-05-01T12:00:00+08:00,1.00\n" for i in range(25))
    seen: list[int] = []
    report = import_file(
        pg,
        "orders",
        make_file("o.csv", "order_id,customer_id,ordered_at,amount\n" + rows),
        progress=seen.append,
        chunk_rows=10,
    )
    assert seen == [10, 20, 25]
    assert report.inserted == 25


def test_the_same_order_twice_in_one_file_keeps_the_first(pg, make_file, read_rejects) -> None:
    import_file(pg, "customers", make_file("c.csv", CUSTOMERS))
    twice = (
        "order_id,customer_id,ordered_at,amount\n"
        "O1,C1,2023-05-01T12:00:00+08:00,1.00\nO1,C1,2023-05-01T12:00:00+08:00,2.00\n"
    )
    path = make_file("o.csv", twice)
    report = import_file(pg, "orders", path, reject_path=path.with_name("o.rejects.csv"))
    assert (report.inserted, report.updated, report.rejected) == (1, 0, 1)
    assert read_rejects(path.with_name("o.rejects.csv")) == [
        {
            "line": "3",
            "field": "order_id",
            "value": "O1",
            "reason": "duplicate order_id in this file, first on line 2",
        }
    ]
    with pg.connect() as conn:
        assert conn.execute(select(Order.amount)).scalar_one() == Decimal("1.00")


def test_an_erased_customer_is_not_reimported(pg, make_file, read_rejects) -> None:
    path = make_file("c.csv", CUSTOMERS)
    import_file(pg, "customers", path)
    with pg.begin() as conn:
        conn.execute(
            text(
                "UPDATE customers SET name_enc = NULL, phone_enc = NULL, "
                "phone_index = NULL, erased_at = now() WHERE external_id = 'C1'"
            )
        )
        conn.execute(text("DELETE FROM customer_tags"))
    reject = path.with_name("again.rejects.csv")
    report = import_file(pg, "customers", path, reject_path=reject)
    assert (report.updated, report.rejected) == (2, 5)
    assert ("2", "customer_id", "C1", "customer was erased; not re-imported") in [
        tuple(r.values()) for r in read_rejects(reject)
    ]
    with pg.connect() as conn:
        c1 = conn.execute(select(Customer).where(Customer.external_id == "C1")).one()
        assert conn.execute(text("SELECT count(*) FROM customer_tags")).scalar_one() == 0
    assert (c1.name_enc, c1.phone_index) == (None, None)
