"""The embedded demo's SQLite database takes the same imports (one smoke test)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from ingest.columns import Kind
from ingest.run import import_file
from models.ingest_tables import CustomerAlias
from models.tables import Customer, Order


def test_every_kind_with_a_merge_and_a_reimport(lite, make_file, counts, read_rejects) -> None:
    files: dict[Kind, Path] = {
        "customers": make_file(
            "c.csv",
            "customer_id,phone,device_id,registered_at,tags\n"
            "C1,13800138000,D1,2023-01-01,vip\n"
            "C2,13900139000,D1,2023-02-01,kol\n"
            "C3,12345,,2023-02-01,\n",
        ),
        "orders": make_file(
            "o.csv",
            "order_id,customer_id,ordered_at,amount,category\n"
            "O1,C1,2023-05-01T10:00:00+08:00,10.50,shoes\n"
            "O2,C2,2022-05-01T10:00:00+08:00,20,bags\n"
            "O3,C2,2023-05-01T10:00:00+08:00,-1,bags\n",
        ),
        "events": make_file(
            "e.csv",
            "event_id,customer_id,event_type,occurred_at\n"
            ",C2,login,2023-05-01T09:00:00+08:00\n"
            "E1,C1,login,2023-05-01T09:00:00+08:00\n",
        ),
        "consents": make_file(
            "k.csv",
            "customer_id,channel,purpose,granted,source,recorded_at\n"
            "C2,sms,marketing,true,pos,2023-05-01T09:00:00+08:00\n",
        ),
    }
    rejects = files["customers"].with_name("c.rejects.csv")
    first = {
        kind: import_file(lite, kind, path, reject_path=rejects if kind == "customers" else None)
        for kind, path in files.items()
    }
    assert (first["customers"].inserted, first["customers"].merged) == (2, 1)
    assert [(r["line"], r["field"], r["value"]) for r in read_rejects(rejects)] == [
        ("4", "phone", "*****")
    ]
    assert (first["orders"].inserted, first["orders"].rejected, first["orders"].flagged) == (
        2,
        1,
        1,
    )
    assert first["events"].inserted == 2 and first["consents"].inserted == 1
    with lite.connect() as conn:
        c1 = conn.execute(select(Customer.id)).scalar_one()
        assert conn.execute(select(CustomerAlias.customer_id)).scalar_one() == c1
        assert set(conn.execute(select(Order.customer_id)).scalars()) == {c1}
    before = counts(lite)
    again = {kind: import_file(lite, kind, path) for kind, path in files.items()}
    assert counts(lite) == before
    assert again["orders"].unchanged == 2
    assert again["events"].inserted == again["consents"].inserted == 0
