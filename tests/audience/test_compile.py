"""Every filter node and operator, run against both backends, and hostile values kept as data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from audience.compile import compile_filter
from models.audience import Filter
from models.tables import Customer
from profiles.refresh import refresh_profiles
from tests.profiles.dbutil import clear
from tests.profiles.seed import D, consent, customer, event, order, tag

HOSTILE_CITY = "O'Brien; DROP TABLE customers; --"


def _seed(session: Session) -> None:
    customer(
        session,
        1,
        gender="F",
        city="上海",
        district="Xuhui",
        member_level="gold",
        home_store="s1",
        birth_year=1990,
        phone_enc=b"x",
    )
    for days, amount in ((2, "100"), (10, "100"), (20, "100"), (40, "50"), (60, "50")):
        order(session, 1, days, amount, category="shoes")
    for days in (1, 2, 3):
        event(session, 1, "login", D - timedelta(days=days))
    tag(session, 1, "vip")
    consent(session, 1, "sms")
    customer(session, 2, gender="M", city=HOSTILE_CITY, birth_year=2000, registered_days=10)
    consent(session, 2, "email")
    consent(session, 2, "email", granted=False, at=D)
    customer(session, 3, registered_days=None)
    order(session, 3, 100, "50", category="food")
    event(session, 3, "login", D - timedelta(days=1))
    tag(session, 3, "' OR 1=1 --")
    customer(session, 4, city="北京", birth_year=1960, registered_days=45)
    order(session, 4, 5.5, "50", category="shoes")
    order(session, 4, 15, "30")
    for days in (3, 20):
        event(session, 4, "message_click", D - timedelta(days=days), channel="wechat_oa")
    consent(session, 4, "wechat_oa")
    session.flush()
    refresh_profiles(session, D)


def _who(session: Session, raw: dict[str, Any]) -> set[int]:
    pred = compile_filter(Filter.model_validate(raw), D)
    return set(session.execute(select(Customer.id).where(pred)).scalars())


def _p(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"profile": {"field": field, "op": op, "value": value}}


CASES: list[tuple[dict[str, Any], set[int]]] = [
    (_p("city", "eq", "上海"), {1}),
    (_p("city", "ne", "上海"), {2, 3, 4}),  # unknown city counts as "not 上海"
    (_p("city", "in", ["上海", "北京"]), {1, 4}),
    (_p("city", "not_in", ["上海"]), {2, 3, 4}),
    (_p("gender", "between", ["F", "G"]), {1}),
    (_p("district", "eq", "Xuhui"), {1}),
    (_p("member_level", "in", ["gold"]), {1}),
    (_p("home_store", "ne", "s1"), {2, 3, 4}),
    (_p("timezone", "eq", "Asia/Shanghai"), {1, 2, 3, 4}),
    (_p("age", "gt", 30), {1, 4}),
    (_p("age", "gt", 35.5), {1, 4}),
    (_p("age", "gte", 36), {1, 4}),
    (_p("age", "lt", 36), {2}),
    (_p("age", "lte", 26), {2}),
    (_p("age", "eq", 36), {1}),
    (_p("age", "eq", 36.5), set()),
    (_p("age", "ne", 36), {2, 3, 4}),
    (_p("age", "in", [26, 66]), {2, 4}),
    (_p("age", "not_in", [26]), {1, 3, 4}),
    (_p("age", "between", [20, 40]), {1, 2}),
    (_p("age", "gt", 10**12), set()),
    (_p("registered_days", "gte", 45), {1, 4}),
    (_p("registered_days", "gt", 44.9), {1, 4}),
    (_p("registered_days", "lt", 45), {2}),
    (_p("registered_days", "lte", 10), {2}),
    (_p("registered_days", "eq", 10), {2}),
    (_p("registered_days", "between", [10, 45]), {2, 4}),
    (_p("registered_days", "lt", -(10**9)), set()),
    ({"rfm": {"recency_days": {"lt": 7}}}, {1, 4}),
    ({"rfm": {"monetary": {"gte": "80"}}}, {1, 4}),
    ({"rfm": {"monetary": {"gt": "79.99", "lte": 80}}}, {4}),
    ({"rfm": {"frequency": {"eq": 1}}}, {3}),
    ({"rfm": {"r_score": {"gte": 3}, "f_score": {"gte": 3}}}, {1}),
    ({"rfm": {"m_score": {"lt": 2}}}, {3}),
    ({"segment": ["loyal", "none"]}, {1, 2}),
    ({"segment": ["potential"]}, {4}),
    ({"lifecycle": ["new"]}, {2}),
    ({"lifecycle": ["dormant", "active"]}, {1, 3, 4}),
    ({"tag": ["vip"]}, {1}),
    ({"tag": ["nope", "vip"]}, {1}),
    ({"event": {"type": "login", "within_days": 7, "at_least": 3}}, {1}),
    ({"event": {"type": "login", "within_days": 7}}, {1, 3}),
    ({"event": {"type": "login", "within_days": 2}}, {1, 3}),
    ({"event": {"type": "message_click", "within_days": 30, "at_least": 2}}, {4}),
    ({"event": {"type": "message_click", "within_days": 10, "at_least": 2}}, set()),
    ({"order": {"category": "shoes", "within_days": 30}}, {1, 4}),
    ({"order": {"min_amount": 60, "within_days": 30}}, {1}),
    ({"order": {"within_days": 30, "at_least": 3}}, {1}),
    ({"order": {"category": "food", "within_days": 90}}, set()),
    ({"order": {"category": "food", "within_days": 120}}, {3}),
    ({"consent": "sms"}, {1}),
    ({"consent": "email"}, set()),  # granted, then revoked: the latest event wins
    ({"consent": "wechat_oa"}, {4}),
    ({"all": [{"segment": ["loyal"]}, {"consent": "sms"}]}, {1}),
    ({"any": [{"segment": ["loyal"]}, {"consent": "wechat_oa"}]}, {1, 4}),
    ({"not": _p("city", "eq", "上海")}, {2, 3, 4}),
    ({"not": {"not": _p("city", "eq", "上海")}}, {1}),
    ({"not": {"tag": ["vip"]}}, {2, 3, 4}),
    ({"not": {"event": {"type": "login", "within_days": 7, "at_least": 3}}}, {2, 3, 4}),
    (
        {
            "all": [
                {"any": [{"segment": ["none"]}, {"tag": ["vip"]}]},
                {"not": {"profile": {"field": "age", "op": "lt", "value": 30}}},
            ]
        },
        {1},
    ),
]


@pytest.fixture(scope="module")
def seeded(engine: Engine) -> Iterator[Engine]:
    """One seeded database for all the read-only cases below."""
    clear(engine)
    with Session(engine) as s:
        _seed(s)
        s.commit()
    yield engine
    clear(engine)


@pytest.mark.parametrize(("raw", "expected"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_every_node_and_operator(seeded: Engine, raw: dict[str, Any], expected: set[int]) -> None:
    with Session(seeded) as s:
        assert _who(s, raw) == expected


HOSTILE = [
    HOSTILE_CITY,
    "' OR 1=1 --",
    "x'); DELETE FROM customers; --",
    'a"b\\c',
    "上海' --",
    "%",
    "_",
    "\u202e🙂\u200b",
    "\\x27; SELECT pg_sleep(5); --",
]


def test_hostile_values_are_data(session: Session) -> None:
    _seed(session)
    assert _who(session, _p("city", "eq", HOSTILE_CITY)) == {2}
    assert _who(session, {"tag": ["' OR 1=1 --"]}) == {3}
    for value in HOSTILE:
        found = _who(session, _p("city", "in", [value]))
        assert found == ({2} if value == HOSTILE_CITY else set())
        assert _who(session, {"tag": [value]}) == ({3} if value == "' OR 1=1 --" else set())
        assert _who(session, {"order": {"category": value, "within_days": 30}}) == set()
        compiled = compile_filter(Filter.model_validate(_p("city", "eq", value)), D).compile(
            dialect=postgresql.dialect()
        )
        assert value in compiled.params.values()
        if len(value) > 2:
            assert value not in str(compiled)
    assert session.execute(select(func.count()).select_from(Customer)).scalar_one() == 4


def test_naive_as_of_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compile_filter(Filter.model_validate({"tag": ["x"]}), D.replace(tzinfo=None))
