"""The consent ledger: invalid grants refused, the newest event wins, nothing is ever edited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from consent.ledger import InvalidConsent, current_consents, record_consent
from db.engine import session_scope
from models.tables import ConsentEvent
from tests.governance.dbkit import NOW, is_contactable, make_customer


def test_grant_revoke_regrant_newest_wins_and_history_stays(engine: Engine) -> None:
    with session_scope(engine) as s:
        cid = make_customer(s, grant=()).id
        assert current_consents(s, cid) == {}
        record_consent(
            s,
            customer_id=cid,
            channel="sms",
            purpose="marketing",
            granted=True,
            source="store_pos",
            wording_version="v1",
            at=NOW,
        )
        record_consent(
            s,
            customer_id=cid,
            channel="sms",
            purpose="service",
            granted=True,
            source="store_pos",
            wording_version="v1",
            at=NOW,
        )
        assert is_contactable(s, cid, "sms")
        record_consent(
            s,
            customer_id=cid,
            channel="sms",
            purpose="marketing",
            granted=False,
            source="call_center",
            wording_version=None,
            at=NOW + timedelta(days=1),
        )
        assert current_consents(s, cid) == {("sms", "marketing"): False, ("sms", "service"): True}
        assert not is_contactable(s, cid, "sms")
        record_consent(
            s,
            customer_id=cid,
            channel="sms",
            purpose="marketing",
            granted=True,
            source="app_settings",
            wording_version="v2",
            at=NOW + timedelta(days=2),
        )
        assert current_consents(s, cid)[("sms", "marketing")] is True
        history = s.execute(
            select(ConsentEvent.granted, ConsentEvent.source, ConsentEvent.wording_version)
            .where(ConsentEvent.customer_id == cid, ConsentEvent.purpose == "marketing")
            .order_by(ConsentEvent.id)
        ).all()
    assert history == [
        (True, "store_pos", "v1"),
        (False, "call_center", None),
        (True, "app_settings", "v2"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"pre_ticked": True}, "pre-ticked grant is not valid consent"),
        ({"bundled": True}, "bundled grant is not valid consent"),
        ({"source": "bundled"}, "bundled grant is not valid consent"),
        ({"source": "default"}, "pre-ticked grant is not valid consent"),
        ({"channel": "fax"}, "channel: unknown channel 'fax'"),
        ({"purpose": "resale"}, "purpose: unknown purpose 'resale'"),
        ({"source": "  "}, "source: where the consent was given is required"),
    ],
)
def test_invalid_consent_is_refused_and_nothing_written(
    engine: Engine, kwargs: dict[str, object], words: str
) -> None:
    with session_scope(engine) as s:
        cid = make_customer(s, grant=()).id
        args = {
            "customer_id": cid,
            "channel": "email",
            "purpose": "marketing",
            "granted": True,
            "source": "web_form",
            "wording_version": "v1",
            "at": NOW,
        } | kwargs
        with pytest.raises(InvalidConsent, match=words):
            record_consent(s, **args)  # type: ignore[arg-type]
        assert current_consents(s, cid) == {}
        assert not is_contactable(s, cid, "email")


def test_a_pre_ticked_box_may_still_record_a_refusal(engine: Engine) -> None:
    with session_scope(engine) as s:
        cid = make_customer(s, grant=()).id
        record_consent(
            s,
            customer_id=cid,
            channel="email",
            purpose="marketing",
            granted=False,
            source="web_form",
            wording_version="v1",
            at=NOW,
            pre_ticked=True,
        )
        assert current_consents(s, cid) == {("email", "marketing"): False}


def test_unknown_customer_is_named(engine: Engine) -> None:
    with (
        session_scope(engine) as s,
        pytest.raises(InvalidConsent, match="customer_id: no customer with id -5"),
    ):
        record_consent(
            s,
            customer_id=-5,
            channel="sms",
            purpose="marketing",
            granted=True,
            source="web",
            wording_version=None,
            at=NOW,
        )


def test_a_grant_never_overrides_a_later_opt_out_nor_comes_from_the_future(engine: Engine) -> None:
    with session_scope(engine) as s:
        cid = make_customer(s, grant=()).id
        record_consent(
            s,
            customer_id=cid,
            channel="wechat_oa",
            purpose="marketing",
            granted=False,
            source="call_center",
            wording_version=None,
            at=NOW,
        )
        for at, words in (
            (NOW - timedelta(hours=1), "would override the opt-out recorded at"),
            (NOW, "would override the opt-out recorded at"),
            (datetime.now(UTC) + timedelta(days=365), "is in the future"),
        ):
            with pytest.raises(InvalidConsent, match=words):
                record_consent(
                    s,
                    customer_id=cid,
                    channel="wechat_oa",
                    purpose="marketing",
                    granted=True,
                    source="import",
                    wording_version="v9",
                    at=at,
                )
        assert current_consents(s, cid) == {("wechat_oa", "marketing"): False}
        record_consent(
            s,
            customer_id=cid,
            channel="wechat_oa",
            purpose="marketing",
            granted=True,
            source="app_settings",
            wording_version="v9",
            at=NOW + timedelta(minutes=1),
        )
        assert current_consents(s, cid) == {("wechat_oa", "marketing"): True}
