"""Replies and unsubscribes credited to sends, and the per-channel summary for the review."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from db.engine import session_scope
from engagement.handlers import apply_click, apply_open
from engagement.hooks import record_reply, record_unsubscribe
from engagement.summary import REVIEW_COLUMNS, engagement_by_channel, event_counts
from models.tables import PlannedSend
from optout.inbound import Reply
from tests.engagement.kit import NOW, events_of, make_campaign, make_send
from tests.governance.dbkit import make_customer, unique_phone


def test_sms_reply_is_credited_to_the_latest_sms_within_the_window(engine: Engine) -> None:
    phone = unique_phone()
    with session_scope(engine) as s:
        customer = make_customer(s, phone=phone).id
        old = make_send(s, make_campaign(s), customer, "sms", sent_at=NOW - timedelta(days=3))
        latest = make_send(s, make_campaign(s), customer, "sms", sent_at=NOW - timedelta(hours=2))
        at = NOW
        assert (
            record_reply(
                s, Reply(f"+86 {phone}", "好的，周六去店里", None), provider="tencent", at=at
            )
            == 1
        )
        assert record_reply(s, Reply(phone, "退订", None), provider="tencent", at=at) == 1
        assert record_reply(s, Reply(phone, "退订", None), provider="tencent", at=at) == 0
        assert events_of(s, latest.id) == ["replied", "unsubscribed"]
        assert events_of(s, old.id) == []
        stranger = Reply(unique_phone(), "R", None)
        assert record_reply(s, stranger, provider="aliyun", at=at) == 0
        late = NOW + timedelta(days=8)
        assert record_reply(s, Reply(phone, "still there?", None), provider="aliyun", at=late) == 0


def test_unsubscribe_link_is_credited_to_the_campaign_send(engine: Engine) -> None:
    with session_scope(engine) as s:
        customer = make_customer(s).id
        campaign = make_campaign(s)
        send = make_send(s, campaign, customer, "email")
        assert (
            record_unsubscribe(
                s, customer_id=customer, channel="email", campaign_id=campaign, at=NOW
            )
            == 1
        )
        assert (
            record_unsubscribe(
                s, customer_id=customer, channel="email", campaign_id=campaign, at=NOW
            )
            == 0
        )
        assert (
            record_unsubscribe(s, customer_id=customer, channel="sms", campaign_id=campaign, at=NOW)
            == 0
        )
        assert events_of(s, send.id) == ["unsubscribed"]


def test_summary_counts_distinct_sends_per_channel(engine: Engine) -> None:
    with session_scope(engine) as s:
        campaign = make_campaign(s)
        emails = [make_send(s, campaign, make_customer(s).id, "email").id for _ in range(4)]
        for send in emails[:3]:
            assert apply_open(s, send, NOW).stored == 1
        assert apply_open(s, emails[0], NOW + timedelta(hours=1)).stored == 0
        apply_click(s, emails[0], "https://shop.example.com/a", NOW)
        apply_click(s, emails[0], "https://shop.example.com/b", NOW)
        apply_click(s, emails[1], "https://shop.example.com/a", NOW)
        record_unsubscribe(
            s,
            customer_id=s.get_one(PlannedSend, emails[3]).customer_id,
            channel="email",
            campaign_id=campaign,
            at=NOW,
        )
        summary = engagement_by_channel(s, campaign)
        counts = {(r["event_type"], r["events"], r["sends"]) for r in event_counts(s, campaign)}
        other = engagement_by_channel(s, make_campaign(s))
    assert summary == {
        "email": dict.fromkeys(REVIEW_COLUMNS, 0) | {"opened": 3, "clicked": 2, "unsubscribed": 1}
    }
    assert counts == {("opened", 3, 3), ("clicked", 3, 2), ("unsubscribed", 1, 1)}
    assert other == {}
