"""Best send hour from own activity (recency-weighted, local time), fallback, channel and tags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.tables import Customer, CustomerProfile, CustomerTag
from profiles.refresh import refresh_profiles
from profiles.tags import has_any_tag, profile_tags
from tests.profiles.seed import D, customer, event, order, tag


def _at(days_ago: int, utc_hour: int) -> datetime:
    day = (D - timedelta(days=days_ago)).date()
    return datetime(day.year, day.month, day.day, utc_hour, 30, tzinfo=UTC)


def _seed(session: Session) -> None:
    # 10 (UTC+8): two old logins at local 20h (weight 0.125 each) lose to one recent open at 9h.
    customer(session, 10, birth_year=1990)
    event(session, 10, "login", _at(100, 12))
    event(session, 10, "login", _at(95, 12))
    event(session, 10, "message_open", _at(1, 1), channel="wechat_oa")
    # 11: only two events: too little history → its segment's best hour.
    customer(session, 11, birth_year=2010)
    event(session, 11, "login", _at(3, 15))
    event(session, 11, "login", _at(4, 15))
    # 12 (New York, UTC−5 on these dates): three logins at 15:30 UTC → local 10h.
    customer(session, 12, tz="America/New_York")
    for days in (5, 6, 7):
        event(session, 12, "login", _at(days, 15), channel=None)
    # 13: orders count as activity; browse events do not; events after D are ignored.
    customer(session, 13, birth_year=1960)
    for days in (10, 11, 12):
        order(session, 13, 0, "500", category="shoes", at=_at(days, 6))  # local 14h
    order(session, 13, 0, "20", category="food", at=_at(13, 6))
    for days in (1, 2, 3, 4):
        event(session, 13, "browse", _at(days, 0))
    for days in (1, 2, 3, 4):
        event(session, 13, "login", D + timedelta(days=days))
    event(session, 13, "message_click", _at(2, 6), channel="sms")
    event(session, 13, "message_open", _at(2, 6), channel="email")
    event(session, 13, "message_open", _at(3, 6), channel="email")
    event(session, 13, "message_open", _at(20, 6), channel="sms")
    session.flush()


def test_best_hour_own_history_fallback_and_timezone(session: Session) -> None:
    _seed(session)
    refresh_profiles(session, D)
    p = {x.customer_id: x for x in session.execute(select(CustomerProfile)).scalars()}
    assert p[10].best_hour == 9
    assert p[12].best_hour == 10
    assert p[13].best_hour == 14
    # 11 is in segment 'none' like 10 and 12; their own hours 9 and 10 tie → the earlier.
    assert p[11].segment == "none" and p[11].best_hour == 9
    assert p[10].preferred_channel == "wechat_oa"
    # 13: sms click (2 × 0.5^0) + old sms open (1 × 0.5^0) = 3 > email opens 2.
    assert p[13].preferred_channel == "sms"
    assert p[11].preferred_channel is None


def test_data_tags_are_profile_columns_beside_manual_tags(session: Session) -> None:
    _seed(session)
    tag(session, 10, "vip")
    tag(session, 13, "category:shoes")  # same text as a data tag: one tag, either way
    session.flush()
    refresh_profiles(session, D)
    manual = set(session.execute(select(CustomerTag.customer_id, CustomerTag.tag)).all())
    assert manual == {(10, "vip"), (13, "category:shoes")}
    tags = {cid: set(profile_tags(session.get(CustomerProfile, cid))) for cid in (10, 11, 12, 13)}
    assert {"age:35-44", "channel:wechat_oa", "active:morning"} <= tags[10]
    assert "age:under_18" in tags[11]
    assert {"age:65+", "power:low", "category:shoes", "active:afternoon"} <= tags[13]
    assert not any(t.startswith("active:") for t in tags[11])  # fallback hour: no activity tag
    assert [cid for cid, ts in tags.items() if any(t.startswith("power:") for t in ts)] == [13]
    assert [t for t in tags[10] if t.startswith("category:")] == []  # no orders, no category


def test_tag_filters_match_manual_and_data_tags(session: Session) -> None:
    _seed(session)
    tag(session, 10, "vip")
    session.flush()
    refresh_profiles(session, D)

    def who(tags: list[str]) -> set[int]:
        rows = session.execute(select(Customer.id).where(has_any_tag(tags))).scalars()
        return set(rows)

    assert who(["vip"]) == {10}
    assert who(["power:low"]) == {13}
    assert who(["vip", "power:low"]) == {10, 13}
    assert who(["age:65+", "nope"]) == {13}
    assert who(["low"]) == set()
    refresh_profiles(session, D)  # a second refresh rewrites the columns, nothing piles up
    assert who(["power:low"]) == {13}
