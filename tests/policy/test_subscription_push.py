"""WeChat subscribe pushes through the engagement service move the quota: an accept grants one
message (once, however often WeChat redelivers it), a rejection ends it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select
from starlette.testclient import TestClient

from db.engine import session_scope
from emulators.wechat import subscribe_push
from engagement.service import create_app
from models.quota_tables import SubscriptionQuota, SubscriptionQuotaEvent
from policy.subscription_quota import consume
from tests.policy.conftest import make_customers

TOKEN = "wx-server-token-quota-0123456789"
ENV = {"OMNIREACH_WECHAT_MINI_CALLBACK_SECRET": TOKEN, "OMNIREACH_WECHAT_OA_CALLBACK_SECRET": TOKEN}
TPL = "VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc"
OTHER = "9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI"
AT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine, environ=ENV)) as c:
        yield c


def push(
    client: TestClient,
    channel: str,
    event: str,
    openid: str,
    items: list[dict[str, str]],
    created: int,
    times: int = 1,
) -> None:
    query, body = subscribe_push(TOKEN, event, openid, items, create_time=created)
    for _ in range(times):
        answer = client.post(f"/wechat/{channel}", params=query, content=body)
        assert (answer.status_code, answer.text) == (200, "success")


def quota(engine: Engine, customer_id: int, channel: str, template: str) -> int | None:
    with session_scope(engine) as s:
        row = s.get(SubscriptionQuota, (customer_id, channel, template))
        return None if row is None else row.remaining


def test_accepts_grant_once_each_and_rejections_end_the_quota(
    engine: Engine, client: TestClient
) -> None:
    [(cid, openid)] = make_customers(engine)
    popup = "subscribe_msg_popup_event"
    push(
        client,
        "wechat_mini",
        popup,
        openid,
        [
            {"TemplateId": TPL, "SubscribeStatusString": "accept", "PopupScene": "0"},
            {"TemplateId": OTHER, "SubscribeStatusString": "reject", "PopupScene": "0"},
        ],
        created=1772330000,
        times=3,
    )  # WeChat redelivers when it does not hear back in time
    assert quota(engine, cid, "wechat_mini", TPL) == 1
    assert quota(engine, cid, "wechat_mini", OTHER) == 0
    push(
        client,
        "wechat_mini",
        popup,
        openid,
        [{"TemplateId": TPL, "SubscribeStatusString": "accept", "PopupScene": "0"}],
        created=1772330100,
    )
    assert quota(engine, cid, "wechat_mini", TPL) == 2
    assert quota(engine, cid, "wechat_oa", TPL) is None  # another account, another quota
    with session_scope(engine) as s:
        assert consume(s, [(cid, "wechat_mini", TPL)], AT) == {(cid, "wechat_mini", TPL)}
    push(
        client,
        "wechat_mini",
        "subscribe_msg_change_event",
        openid,
        [{"TemplateId": TPL, "SubscribeStatusString": "reject"}],
        created=1772330200,
    )
    assert quota(engine, cid, "wechat_mini", TPL) == 0


def test_pushes_for_unknown_users_or_unusable_templates_change_nothing(
    engine: Engine, client: TestClient
) -> None:
    [(cid, openid)] = make_customers(engine)
    with session_scope(engine) as s:
        changes = select(func.count()).select_from(SubscriptionQuotaEvent)
        before = s.execute(changes).scalar_one()
        push(
            client,
            "wechat_oa",
            "subscribe_msg_popup_event",
            "oNobody" + "x" * 21,
            [{"TemplateId": TPL, "SubscribeStatusString": "accept", "PopupScene": "2"}],
            created=1772330000,
        )
        assert s.execute(changes).scalar_one() == before
    push(
        client,
        "wechat_oa",
        "subscribe_msg_popup_event",
        openid,
        [
            {"TemplateId": "T" * 100, "SubscribeStatusString": "accept", "PopupScene": "2"},
            {"TemplateId": TPL, "SubscribeStatusString": "accept", "PopupScene": "2"},
        ],
        created=1772330000,
    )
    assert quota(engine, cid, "wechat_oa", "T" * 100) is None
    assert quota(engine, cid, "wechat_oa", TPL) == 1
