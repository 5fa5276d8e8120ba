"""The WeChat subscription quota ledger on real PostgreSQL (and once on SQLite): grants, the
decrement as reservation, give-backs, endings, and the last unit under concurrency."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from db.engine import make_engine, session_scope
from models.quota_tables import SubscriptionQuota, SubscriptionQuotaEvent
from models.tables import Base
from policy.subscription_quota import (
    LONG_TERM,
    Pair,
    available,
    consume,
    exhaust,
    grant,
    release,
)
from tests.policy.conftest import make_customers

AT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
TPL = "VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc"
OTHER = "9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI"


def left(engine: Engine, pair: Pair) -> int | None:
    with session_scope(engine) as s:
        row = s.get(SubscriptionQuota, pair)
        return None if row is None else row.remaining


def history(engine: Engine, pair: Pair) -> list[tuple[str, int | None, int]]:
    with session_scope(engine) as s:
        rows = s.execute(
            select(
                SubscriptionQuotaEvent.kind,
                SubscriptionQuotaEvent.change,
                SubscriptionQuotaEvent.remaining,
            )
            .where(
                SubscriptionQuotaEvent.customer_id == pair[0],
                SubscriptionQuotaEvent.channel == pair[1],
                SubscriptionQuotaEvent.template == pair[2],
            )
            .order_by(SubscriptionQuotaEvent.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def give(engine: Engine, pair: Pair, count: int = 1, **kw: object) -> bool:
    with session_scope(engine) as s:
        return grant(
            s,
            customer_id=pair[0],
            channel=pair[1],
            template=pair[2],
            at=AT,
            count=count,
            **kw,  # type: ignore[arg-type]
        )


def test_one_message_per_accept_and_never_below_zero(engine: Engine) -> None:
    [(cid, _)] = make_customers(engine)
    mini, oa, no_row = (
        (cid, "wechat_mini", TPL),
        (cid, "wechat_oa", TPL),
        (cid, "wechat_mini", OTHER),
    )
    give(engine, mini)
    give(engine, mini)
    give(engine, oa)
    with session_scope(engine) as s:
        assert available(s, [mini, oa, no_row]) == {mini, oa}
        assert consume(s, [mini, mini, oa, no_row], AT) == {mini, oa}  # a pair twice: one unit
    assert (left(engine, mini), left(engine, oa), left(engine, no_row)) == (1, 0, None)
    with session_scope(engine) as s:
        assert consume(s, [mini, oa], AT) == {mini}
        assert consume(s, [mini, oa], AT) == set()
        assert available(s, [mini, oa]) == set()
    assert left(engine, mini) == 0
    assert history(engine, mini) == [
        ("accept", 1, 1),
        ("accept", 1, 2),
        ("send", -1, 1),
        ("send", -1, 0),
    ]


def test_release_gives_the_unit_back_unless_the_quota_ended_since(engine: Engine) -> None:
    [(cid, _)] = make_customers(engine)
    pair = (cid, "wechat_mini", TPL)
    give(engine, pair)
    with session_scope(engine) as s:
        assert consume(s, [pair], AT) == {pair}
    with session_scope(engine) as s:  # the send failed before WeChat took it: unit back
        assert release(s, [pair], AT) == {pair}
    assert left(engine, pair) == 1
    with session_scope(engine) as s:
        assert consume(s, [pair], AT) == {pair}
        exhaust(s, customer_id=cid, channel="wechat_mini", template=TPL, at=AT, reason="reject")
    give(engine, pair)  # a new accept after the rejection counts
    with session_scope(engine) as s:  # the unit taken before the rejection is not revived
        assert release(s, [pair], AT) == set()
    assert left(engine, pair) == 1
    assert [kind for kind, _, _ in history(engine, pair)] == [
        "accept",
        "send",
        "release",
        "send",
        "reject",
        "accept",
    ]


def test_43101_and_rejection_end_the_quota_even_without_a_row(engine: Engine) -> None:
    [(cid, _)] = make_customers(engine)
    pair, fresh = (cid, "wechat_oa", TPL), (cid, "wechat_oa", OTHER)
    give(engine, pair, count=3)
    with session_scope(engine) as s:
        assert exhaust(
            s, customer_id=cid, channel="wechat_oa", template=TPL, at=AT, reason="provider_43101"
        )
        assert exhaust(
            s, customer_id=cid, channel="wechat_oa", template=OTHER, at=AT, reason="reject"
        )
        assert available(s, [pair, fresh]) == set()
    assert (left(engine, pair), left(engine, fresh)) == (0, 0)
    assert history(engine, pair)[-1] == ("provider_43101", None, 0)


def test_long_term_subscription_is_effectively_unlimited_until_ended(engine: Engine) -> None:
    [(cid, _)] = make_customers(engine)
    pair = (cid, "wechat_mini", TPL)
    give(engine, pair, long_term=True)
    with session_scope(engine) as s:
        for _ in range(3):
            assert consume(s, [pair], AT) == {pair}
    assert left(engine, pair) == LONG_TERM - 3
    with session_scope(engine) as s:
        exhaust(s, customer_id=cid, channel="wechat_mini", template=TPL, at=AT, reason="reject")
        assert consume(s, [pair], AT) == set()


def test_a_redelivered_accept_grants_once(engine: Engine) -> None:
    [(cid, _)] = make_customers(engine)
    pair = (cid, "wechat_mini", TPL)
    assert give(engine, pair, source_key="push-1-item-0")
    assert not give(engine, pair, source_key="push-1-item-0")
    assert give(engine, pair, source_key="push-2-item-0")
    assert left(engine, pair) == 2


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"channel": "sms"}, "channel: 'sms'"),
        ({"template": ""}, "template: ''"),
        ({"template": "x" * 65}, "template: 'xxx"),
        ({"count": 0}, "count: 0"),
    ],
)
def test_bad_grants_name_the_field(engine: Engine, kwargs: dict[str, object], names: str) -> None:
    [(cid, _)] = make_customers(engine)
    args: dict[str, object] = {
        "customer_id": cid,
        "channel": "wechat_mini",
        "template": TPL,
        "at": AT,
    } | kwargs
    with session_scope(engine) as s, pytest.raises(ValueError, match=names):
        grant(s, **args)  # type: ignore[arg-type]
    with session_scope(engine) as s, pytest.raises(ValueError, match="reason: 'bored'"):
        exhaust(s, customer_id=cid, channel="wechat_mini", template=TPL, at=AT, reason="bored")
    with session_scope(engine) as s, pytest.raises(ValueError, match="channel: 'email'"):
        consume(s, [(cid, "email", TPL)], AT)


def _race(engine: Engine, batches: list[list[Pair]], hold: float) -> list[set[Pair]]:
    """Each batch consumed by its own thread, all starting together; each keeps its
    transaction open for `hold` seconds so the others have to wait on its row locks."""
    start = threading.Barrier(len(batches))
    won: list[set[Pair]] = [set() for _ in batches]
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with session_scope(engine) as s:
                start.wait()
                won[n] = consume(s, batches[n], AT)
                time.sleep(hold)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return won


def test_two_workers_cannot_both_take_the_last_unit(engine: Engine) -> None:
    [(cid, _)] = make_customers(engine)
    pair = (cid, "wechat_mini", TPL)
    give(engine, pair)
    won = _race(engine, [[pair], [pair]], hold=0.3)
    assert sorted(len(w) for w in won) == [0, 1]
    assert left(engine, pair) == 0


def test_many_workers_share_exactly_the_units_there_are(engine: Engine) -> None:
    [(cid, _)] = make_customers(engine)
    pair = (cid, "wechat_oa", TPL)
    give(engine, pair, count=3)
    won = _race(engine, [[pair]] * 8, hold=0.05)
    assert sum(len(w) for w in won) == 3
    assert left(engine, pair) == 0


def test_overlapping_batches_in_opposite_orders_do_not_deadlock(engine: Engine) -> None:
    pairs = [(cid, "wechat_mini", TPL) for cid, _ in make_customers(engine, 20)]
    for pair in pairs:
        give(engine, pair, count=2)
    won = _race(engine, [pairs, list(reversed(pairs))], hold=0.1)
    assert won == [set(pairs), set(pairs)]
    assert {left(engine, p) for p in pairs} == {0}


def test_the_same_rules_hold_on_sqlite(tmp_path: Path) -> None:
    lite = make_engine(f"sqlite:///{tmp_path / 'quota.db'}")
    Base.metadata.create_all(lite)
    try:
        [(cid, _)] = make_customers(lite)
        pair = (cid, "wechat_mini", TPL)
        with session_scope(lite) as s:
            grant(s, customer_id=cid, channel="wechat_mini", template=TPL, at=AT, count=2)
            assert consume(s, [pair], AT) == {pair}
            assert release(s, [pair], AT) == {pair}
            assert consume(s, [pair, pair], AT) == {pair}
            assert available(s, [pair]) == {pair}
            exhaust(
                s,
                customer_id=cid,
                channel="wechat_mini",
                template=TPL,
                at=AT,
                reason="provider_43101",
            )
            assert consume(s, [pair], AT) == set()
            assert release(s, [pair], AT) == set()
        assert left(lite, pair) == 0
    finally:
        lite.dispose()
