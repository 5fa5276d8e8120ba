"""The opt-out HTTP service: signed links, RFC 8058 one-click, inbound SMS callbacks."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from starlette.testclient import TestClient

from audit.log import verify
from db.engine import session_scope
from engagement.optout_service import create_app
from models.tables import AuditEntry, ConsentEvent, Customer, Suppression
from optout.inbound import sign
from optout.links import make_token
from privacy.blind_index import blind_index
from tests.governance.dbkit import is_contactable, make_customer, unique_phone

SECRET = "inbound-secret-for-tests-0123"
ENV = {
    "OMNIREACH_TENCENT_SMS_INBOUND_SECRET": SECRET,
    "OMNIREACH_ALIYUN_SMS_INBOUND_SECRET": SECRET,
}
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine, environ=ENV)) as c:
        yield c


def customer(engine: Engine, **kw: object) -> tuple[int, str, str]:
    with session_scope(engine) as s:
        c = make_customer(s, **kw)  # type: ignore[arg-type]
        return c.id, c.phone_index or "", c.email_index or ""


def state(engine: Engine) -> tuple[int, int, int]:
    with session_scope(engine) as s:
        return tuple(
            s.execute(select(func.count()).select_from(t)).scalar_one()  # type: ignore[return-value]
            for t in (ConsentEvent, Suppression, AuditEntry)
        )


def contactable(engine: Engine, cid: int, channel: str) -> bool:
    with session_scope(engine) as s:
        return is_contactable(s, cid, channel)


def test_link_page_confirms_without_unsubscribing_or_showing_pii(
    engine: Engine, client: TestClient
) -> None:
    cid, _, _ = customer(engine, phone="13912345678", email="zhang.san@example.com")
    r = client.get(f"/u/{make_token(cid, 'email', 'c-1')}")
    assert r.status_code == 200
    assert 'name="List-Unsubscribe" value="One-Click"' in r.text
    for secret in ("13912345678", "zhang.san", "张三丰", str(cid)):
        assert secret not in r.text
    assert "set-cookie" not in r.headers and r.headers["cache-control"] == "no-store"
    assert contactable(engine, cid, "email")


@pytest.mark.parametrize("multipart", [False, True])
def test_rfc8058_one_click_post_suppresses(
    engine: Engine, client: TestClient, multipart: bool
) -> None:
    cid, _, email_index = customer(engine)
    token = make_token(cid, "email", "camp-7")
    if multipart:
        r = client.post(f"/u/{token}", files={"List-Unsubscribe": (None, "One-Click")})
    else:
        r = client.post(f"/u/{token}", data=ONE_CLICK)
    assert r.status_code == 200 and "set-cookie" not in r.headers
    assert not contactable(engine, cid, "email")
    assert contactable(engine, cid, "sms")
    with session_scope(engine) as s:
        rows = s.execute(
            select(Suppression.channel, Suppression.reason).where(
                Suppression.address_index == email_index
            )
        ).all()
        entry = s.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
    assert rows == [("email", "one_click")]
    assert entry.action == "opt_out" and entry.campaign_id == "camp-7"
    before = state(engine)
    assert client.post(f"/u/{token}", data=ONE_CLICK).status_code == 200
    assert state(engine) == before


def test_post_without_the_one_click_body_changes_nothing(
    engine: Engine, client: TestClient
) -> None:
    cid, _, _ = customer(engine)
    token = make_token(cid, "email", "c")
    assert client.post(f"/u/{token}", data={"List-Unsubscribe": "yes"}).status_code == 400
    assert client.post(f"/u/{token}").status_code == 400
    assert contactable(engine, cid, "email")


def _forge(payload: bytes) -> str:
    return base64.urlsafe_b64encode(payload + b"|" + b"\0" * 16).decode().rstrip("=")


def test_forged_or_altered_tokens_are_rejected_alike(engine: Engine, client: TestClient) -> None:
    cid, _, _ = customer(engine)
    good = make_token(cid, "email", "c")
    raw = base64.urlsafe_b64decode(good + "=" * (-len(good) % 4))
    altered = base64.urlsafe_b64encode(raw.replace(str(cid).encode(), str(cid + 1).encode(), 1))
    bad = [
        altered.decode().rstrip("="),
        _forge(f"{cid}|email|c".encode()),
        _forge(b"999999999|email|c"),
        "not-a-token",
        good[:-2],
        "x" * 600,
    ]
    answers = set()
    for token in bad:
        for method in ("get", "post"):
            r = getattr(client, method)(
                f"/u/{token}", **({"data": ONE_CLICK} if method == "post" else {})
            )
            assert r.status_code == 400, (token, method)
            answers.add(r.text)
    assert len(answers) == 1  # the same answer whoever the token names
    assert contactable(engine, cid, "email")


def test_a_valid_token_for_an_unknown_customer_looks_like_success(client: TestClient) -> None:
    r = client.post(f"/u/{make_token(10**9, 'email', 'c')}", data=ONE_CLICK)
    assert r.status_code == 200 and "Unsubscribed" in r.text


def tencent(phone: str, text: str) -> bytes:
    return json.dumps(
        {
            "extend": "",
            "mobile": phone,
            "nationcode": "86",
            "sign": "百货商城",
            "text": text,
            "time": 1457336869,
        },
        ensure_ascii=False,
    ).encode()


def aliyun(phone: str, text: str) -> list[dict[str, object]]:
    return [
        {
            "phone_number": phone,
            "send_time": "2025-03-01 10:00:00",
            "content": text,
            "sign_name": "百货商城",
            "dest_code": "1234",
            "sequence_id": 1234567890,
        }
    ]


def test_inbound_with_bad_signature_is_401(engine: Engine, client: TestClient) -> None:
    phone = unique_phone()
    cid, _, _ = customer(engine, phone=phone)
    body = tencent(phone, "TD")
    before = state(engine)
    for headers, params in [
        ({}, {}),
        ({"X-Omnireach-Signature": sign("wrong-secret", body)}, {}),
        ({"X-Omnireach-Signature": sign(SECRET, body + b" ")}, {}),
        ({}, {"token": "wrong"}),
    ]:
        r = client.post("/inbound/sms/tencent", content=body, headers=headers, params=params)
        assert r.status_code == 401
    assert state(engine) == before and contactable(engine, cid, "sms")


def test_tencent_reply_td_suppresses_and_redelivery_is_idempotent(
    engine: Engine, client: TestClient
) -> None:
    phone = unique_phone()
    cid, phone_index, _ = customer(engine, phone=phone)
    body = tencent(phone, " td ")
    headers = {"X-Omnireach-Signature": sign(SECRET, body), "Content-Type": "application/json"}
    r = client.post("/inbound/sms/tencent", content=body, headers=headers)
    assert r.status_code == 200 and r.json() == {"result": 0, "errmsg": "OK"}
    assert phone not in r.text
    assert not contactable(engine, cid, "sms") and contactable(engine, cid, "email")
    before = state(engine)
    assert client.post("/inbound/sms/tencent", content=body, headers=headers).json() == {
        "result": 0,
        "errmsg": "OK",
    }
    assert state(engine) == before
    with session_scope(engine) as s:
        assert s.execute(
            select(Suppression.reason).where(Suppression.address_index == phone_index)
        ).scalars().all() == ["sms_reply:tencent"]


def test_aliyun_reply_with_token_then_start_resubscribes(
    engine: Engine, client: TestClient
) -> None:
    phone = unique_phone()
    cid, _, _ = customer(engine, phone=phone)
    r = client.post("/inbound/sms/aliyun", json=aliyun(phone, "退订"), params={"token": SECRET})
    assert r.status_code == 200 and r.json() == {"code": 0, "msg": "接收成功"}
    assert not contactable(engine, cid, "sms")
    r = client.post(
        "/inbound/sms/aliyun", json=aliyun(phone, "ＳＴＡＲＴ"), params={"token": SECRET}
    )
    assert r.status_code == 200 and contactable(engine, cid, "sms")


def test_ordinary_reply_changes_nothing(engine: Engine, client: TestClient) -> None:
    phone = unique_phone()
    cid, _, _ = customer(engine, phone=phone)
    before = state(engine)
    r = client.post(
        "/inbound/sms/aliyun", json=aliyun(phone, "请问几点开门"), params={"token": SECRET}
    )
    assert r.status_code == 200 and state(engine) == before


def test_opt_out_from_an_unknown_number_survives_a_later_import(
    engine: Engine, client: TestClient
) -> None:
    phone = unique_phone()
    r = client.post("/inbound/sms/aliyun", json=aliyun(phone, "T"), params={"token": SECRET})
    assert r.status_code == 200
    cid, phone_index, _ = customer(engine, phone=phone)
    assert phone_index == blind_index("phone", phone)
    assert not contactable(engine, cid, "sms") and contactable(engine, cid, "email")


@pytest.mark.parametrize(
    ("provider", "doc", "field"),
    [
        ("tencent", {"nationcode": "86", "text": "TD"}, "[0].mobile"),
        ("aliyun", [{"phone_number": "13900000000"}], "[0].content"),
        ("aliyun", {"phone_number": "13900000000", "content": "T"}, "JSON array"),
        ("tencent", [1, 2], "expected a JSON object"),
    ],
)
def test_malformed_payload_is_400_naming_the_field(
    client: TestClient, provider: str, doc: object, field: str
) -> None:
    r = client.post(f"/inbound/sms/{provider}", json=doc, params={"token": SECRET})
    assert r.status_code == 400 and field in r.json()["error"]


def test_not_json_unknown_provider_unconfigured_and_health(
    engine: Engine, client: TestClient
) -> None:
    r = client.post("/inbound/sms/tencent", content=b"{nope", params={"token": SECRET})
    assert r.status_code == 400
    assert client.post("/inbound/sms/huawei", json=[], params={"token": SECRET}).status_code == 404
    bare = TestClient(create_app(engine, environ={}))
    assert bare.post("/inbound/sms/tencent", json={}, params={"token": SECRET}).status_code == 503
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/u/abc/extra").status_code == 404
    with session_scope(engine) as s:
        assert verify(s).ok
        assert s.execute(select(func.count()).select_from(Customer)).scalar_one() > 0


def test_oversized_bodies_are_refused(engine: Engine, client: TestClient) -> None:
    cid, _, _ = customer(engine)
    big = b"List-Unsubscribe=One-Click&pad=" + b"x" * 70_000
    r = client.post(
        f"/u/{make_token(cid, 'email', 'c')}",
        content=big,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413 and contactable(engine, cid, "email")
    r = client.post(
        "/inbound/sms/aliyun", content=b"[" + b" " * 70_000 + b"]", params={"token": SECRET}
    )
    assert r.status_code == 413
