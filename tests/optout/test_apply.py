"""opt_out / opt_out_from_provider: ledger revocation, suppression, audit; idempotent."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from audit.log import verify
from consent.ledger import current_consents
from db.engine import session_scope
from models.tables import AuditEntry, Suppression
from optout.apply import CHANNELS, UnknownCustomer, opt_out, opt_out_from_provider
from tests.governance.dbkit import NOW, is_contactable, make_customer


def suppressions(s: Session, index: str | None) -> set[tuple[str, str]]:
    rows = s.execute(
        select(Suppression.channel, Suppression.reason).where(Suppression.address_index == index)
    ).all()
    return {(c, r) for c, r in rows}


def audits(s: Session, action: str = "opt_out") -> int:
    query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    return s.execute(query).scalar_one()


def test_one_channel_opt_out_leaves_the_others(engine: Engine) -> None:
    with session_scope(engine) as s:
        c = make_customer(s)
        before = audits(s)
        assert (
            opt_out(s, customer_id=c.id, channel="sms", source="operator", at=NOW, actor="li.lei")
            == 2
        )
        assert not is_contactable(s, c.id, "sms")
        assert is_contactable(s, c.id, "email")
        assert current_consents(s, c.id)[("sms", "marketing")] is False
        assert suppressions(s, c.phone_index) == {("sms", "operator")}
        assert audits(s) == before + 1
        assert (
            opt_out(s, customer_id=c.id, channel="sms", source="operator", at=NOW, actor="li.lei")
            == 0
        )
        assert audits(s) == before + 1
        assert suppressions(s, c.phone_index) == {("sms", "operator")}
        assert verify(s).ok


def test_every_channel(engine: Engine) -> None:
    with session_scope(engine) as s:
        c = make_customer(s, grant=("sms", "email", "wechat_oa", "app_push"))
        changes = opt_out(
            s, customer_id=c.id, channel=None, source="operator", at=NOW, actor="li.lei"
        )
        assert changes == len(CHANNELS) + 2
        for channel in ("sms", "email", "wechat_oa", "app_push", "outbound_call"):
            assert not is_contactable(s, c.id, channel)
        assert suppressions(s, c.phone_index) == {("*", "operator")}
        assert suppressions(s, c.email_index) == {("*", "operator")}
        entry = s.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
        assert entry.detail["channel"] == "*" and entry.actor == "li.lei"


def test_provider_blacklist_suppresses(engine: Engine) -> None:
    with session_scope(engine) as s:
        c = make_customer(s, grant=("sms", "wechat_mini"))
        assert (
            opt_out_from_provider(s, customer_id=c.id, channel="sms", provider_code="1015", at=NOW)
            == 2
        )
        assert (
            opt_out_from_provider(
                s, customer_id=c.id, channel="wechat_mini", provider_code="43101", at=NOW
            )
            == 1
        )
        assert not is_contactable(s, c.id, "sms")
        assert not is_contactable(s, c.id, "wechat_mini")
        assert suppressions(s, c.phone_index) == {("sms", "provider:1015")}
        assert (
            opt_out_from_provider(s, customer_id=c.id, channel="sms", provider_code="1015", at=NOW)
            == 0
        )


def test_bad_input(engine: Engine) -> None:
    with session_scope(engine) as s:
        with pytest.raises(ValueError, match="channel: unknown channel 'fax'"):
            opt_out(s, customer_id=1, channel="fax", source="operator", at=NOW, actor="x")
        with pytest.raises(UnknownCustomer):
            opt_out(s, customer_id=-1, channel="sms", source="operator", at=NOW, actor="x")
