"""Audience snapshot: holdout stability (SQL = Python twin), exclusions, counts, idempotence."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from audience.holdout import bucket, bucket_expr, in_holdout, threshold
from audience.snapshot import take_snapshot
from models.tables import AudienceMember, Customer
from tests.profiles.seed import D, campaign, consent, customer, make_spec

SMS_WECHAT = [
    {"channel": "sms", "template": "t", "body": "b"},
    {"channel": "wechat_oa", "template": "t", "body": "b"},
]


def test_python_twin_spreads_evenly_and_differs_between_campaigns() -> None:
    ids = range(1, 100_001)
    for pct in (5, 10, 50):
        share = sum(in_holdout(i, "camp-a", pct) for i in ids) / len(ids)
        assert abs(share - pct / 100) < 0.01
    a = {i for i in ids if in_holdout(i, "camp-a", 10)}
    b = {i for i in ids if in_holdout(i, "camp-b", 10)}
    assert a != b and abs(len(a & b) / len(a) - 0.10) < 0.02  # independent: ~10% overlap
    assert a == {i for i in ids if in_holdout(i, "camp-a", 10)}
    assert threshold(0) == 0 and not any(in_holdout(i, "camp-a", 0) for i in range(1, 1000))


def test_sql_hash_equals_python_twin(session: Session) -> None:
    for cid in range(1, 301):
        customer(session, cid * 7919)
    rows = session.execute(select(Customer.id, bucket_expr(Customer.id, "ü-campaign'; --"))).all()
    assert len(rows) == 300
    assert all(b == bucket(cid, "ü-campaign'; --") for cid, b in rows)


def _members(session: Session, campaign_id: str) -> dict[int, tuple[bool, str | None]]:
    am = AudienceMember
    rows = session.execute(
        select(am.customer_id, am.holdout, am.excluded_reason).where(am.campaign_id == campaign_id)
    ).all()
    return {cid: (held, reason) for cid, held, reason in rows}


def test_snapshot_counts_exclusions_and_reruns(session: Session) -> None:
    for cid in range(1, 401):
        phone = b"p" if cid % 4 != 0 else None
        customer(
            session,
            cid,
            phone_enc=phone,
            wechat_openid="w" if cid % 3 == 0 else None,
            city="上海" if cid <= 300 else "北京",
        )
        if cid % 2 == 0:
            consent(session, cid, "sms")
        if cid % 5 == 0:
            consent(session, cid, "wechat_oa")
    customer(session, 999, city="上海", erased_at=D)
    consent(session, 999, "sms")
    spec = make_spec(
        {
            "all": [
                {"profile": {"field": "city", "op": "eq", "value": "上海"}},
                {"not": {"segment": ["loyal"]}},
                {"not": {"tag": ["x"]}},
                {"not": {"event": {"type": "login", "within_days": 9}}},
            ]
        },
        SMS_WECHAT,
    )
    campaign(session, "c1", spec)
    campaign(session, "c2", spec)
    first = take_snapshot(session, "c1", spec, D)
    members = _members(session, "c1")
    assert set(members) == set(range(1, 301))  # the erased customer is not in the audience

    def expected_reason(cid: int) -> str | None:
        sms = cid % 2 == 0 and cid % 4 != 0
        wechat = cid % 5 == 0 and cid % 3 == 0
        if sms or wechat:
            return None
        return "no_address" if cid % 2 == 0 or cid % 5 == 0 else "no_consent"

    assert all(members[cid][1] == expected_reason(cid) for cid in members)
    assert all(members[cid][0] == in_holdout(cid, "c1", 10) for cid in members)
    held = sum(h for h, _ in members.values())
    assert first.audience == 300 and first.holdout == held and 10 <= held <= 50
    targeted = [c for c, (h, r) in members.items() if not h and r is None]
    assert first.targeted == len(targeted)
    assert first.reachable_by_channel == {
        "sms": sum(1 for c in targeted if c % 2 == 0 and c % 4 != 0),
        "wechat_oa": sum(1 for c in targeted if c % 15 == 0),
    }
    assert first.excluded == {
        r: sum(1 for c, (h, x) in members.items() if not h and x == r)
        for r in ("no_consent", "no_address")
    }
    assert take_snapshot(session, "c1", spec, D) == first
    assert _members(session, "c1") == members
    take_snapshot(session, "c2", spec, D)
    other = _members(session, "c2")
    assert {c for c, (h, _) in other.items() if h} != {c for c, (h, _) in members.items() if h}
