"""A customer's country is derived at import: the phone's country code first, then an address
that names a country; unknown stays NULL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ingest.country import country_of, from_address, from_phone
from ingest.run import import_file
from models.tables import Customer
from privacy.blind_index import blind_index, normalize_phone

CUSTOMERS = """customer_id,name,phone,address
K1,张三,+86 138-0013-8000,"Hauptstr. 1, Berlin, Germany"
K2,Anna,+49 30 1234567,
K3,Tom,+1 (416) 555-0100,
K4,Ann,001 415 555 0100,
K5,Marie,,"12 rue de Rivoli, Paris, France"
K6,王五,,上海市静安区
K7,Lee,+999 1234567,
"""


@pytest.mark.parametrize(
    ("phone", "country"),
    [
        ("13800138000", "CN"),
        ("+4930123456", "DE"),
        ("+14165550100", "CA"),
        ("+14155550100", "US"),
        ("+85291234567", "HK"),
        ("+35312345678", "IE"),
        ("+999123456", None),
    ],
)
def test_phone_prefix(phone: str, country: str | None) -> None:
    assert from_phone(phone) == country


@pytest.mark.parametrize(
    ("address", "country"),
    [
        ("中国上海市静安区南京西路1号", "CN"),
        ("1 Main St, Springfield, USA", "US"),
        ("10 Downing St, London, UK.", "GB"),
        ("12 Ukraine Road", None),
        ("上海市静安区", None),
    ],
)
def test_address_names_a_country(address: str, country: str | None) -> None:
    assert from_address(address) == country


def test_phone_decides_before_address() -> None:
    assert country_of("13800138000", "Berlin, Germany") == "CN"
    assert country_of(None, "Berlin, Germany") == "DE"
    assert country_of(None, None) is None


def test_a_foreign_number_never_shares_a_mainland_index() -> None:
    assert normalize_phone("+1 415 555 0100") == "+14155550100"
    assert normalize_phone("0086 138 0013 8000") == "13800138000"
    assert blind_index("phone", "+14155550100") != blind_index("phone", "14155550100")


def test_import_stores_the_country(pg, make_file) -> None:
    report = import_file(pg, "customers", make_file("customers.csv", CUSTOMERS))
    assert report.rejected == 0
    with pg.connect() as conn:
        got = dict(conn.execute(select(Customer.external_id, Customer.country)).all())
    assert got == {
        "K1": "CN",
        "K2": "DE",
        "K3": "CA",
        "K4": "US",
        "K5": "FR",
        "K6": None,
        "K7": None,
    }


def test_a_later_file_without_phone_or_address_keeps_the_country(pg, make_file) -> None:
    import_file(pg, "customers", make_file("a.csv", "customer_id,phone\nK2,+49 30 1234567\n"))
    import_file(pg, "customers", make_file("b.csv", "customer_id,name\nK2,Anna\n"))
    with pg.connect() as conn:
        assert conn.execute(select(Customer.country)).scalar_one() == "DE"
