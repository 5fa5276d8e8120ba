"""Receipts by pull: statuses of sends whose push never came fetched from the providers'
emulators through the real adapters, stored by the same path as the pushes, once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from channels.sms_aliyun import AliyunSmsChannel, AliyunSmsSettings
from channels.sms_tencent import TencentSmsChannel, TencentSmsSettings
from db.engine import session_scope
from emulators.aliyun_sms import AliyunSmsEmulator
from emulators.server import serve
from emulators.tencent_sms import TencentSmsEmulator
from engagement.receipt_pull import pull_aliyun, pull_tencent
from engagement.service import create_app
from tests.engagement.kit import event_total, events_of, sms_sends

SECRET = "receipt-secret-0123456789"
ENV = {
    "OMNIREACH_ALIYUN_SMS_CALLBACK_SECRET": SECRET,
    "OMNIREACH_TENCENT_SMS_CALLBACK_SECRET": SECRET,
}
SIGN = "欧姆尼零售"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine, environ=ENV)) as c:
        yield c


async def test_aliyun_pull_fills_in_the_push_that_never_came(
    engine: Engine, client: TestClient
) -> None:
    emu = AliyunSmsEmulator(
        access_key_id="LTAI5tPull",
        access_key_secret="ak-secret",
        sign_names=[SIGN],
        templates={"SMS_100001": ["name"]},
    )
    with serve(emu.app) as url:

        def channel() -> AliyunSmsChannel:
            settings = AliyunSmsSettings(
                access_key_id="LTAI5tPull",
                access_key_secret="ak-secret",
                sign_name=SIGN,
                endpoint=f"{url}/",
            )
            return AliyunSmsChannel(settings)

        ids, phones = await sms_sends(engine, channel(), "SMS_100001", {"name": "张三"}, 3)
        waiting = phones.pop()  # the carrier has not reported on the third yet
        reports = emu.status_reports({phones[1]: "MOBILE_NOT_ON_SERVICE"}, waiting=[waiting])
        pushed = [r for r in reports if r["phone_number"] == phones[0]]
        answer = client.post("/receipts/sms/aliyun", params={"token": SECRET}, json=pushed)
        assert answer.status_code == 200
        async with channel() as ch:
            pulled = await pull_aliyun(engine, ch)
        assert (pulled.asked, pulled.received, pulled.stored, pulled.waiting) == (2, 1, 1, 1)
        assert pulled.errors == {}
        with session_scope(engine) as s:
            assert [events_of(s, i) for i in ids] == [["delivered"], ["failed_delivery"], []]
            before = event_total(s)
        late = client.post(
            "/receipts/sms/aliyun",
            params={"token": SECRET},
            content=json.dumps(emu.status_reports(waiting=[waiting])),
        )
        assert late.status_code == 200
        with session_scope(engine) as s:
            assert event_total(s) == before  # what the pull brought is not stored again
        emu.settle()  # the carrier reports on the third; its push never comes
        async with channel() as ch:
            again = await pull_aliyun(engine, ch)
        assert (again.asked, again.stored) == (1, 1)
        with session_scope(engine) as s:
            assert events_of(s, ids[2]) == ["delivered"]


async def test_tencent_pull_counts_a_receipt_that_also_came_by_push_once(
    engine: Engine, client: TestClient
) -> None:
    emu = TencentSmsEmulator(
        secret_id="AKIDpull",
        secret_key="tc-secret",
        sdk_app_id="1400006666",
        sign_names=[SIGN],
        templates={"1110": 1},
    )
    with serve(emu.app) as url:

        def channel() -> TencentSmsChannel:
            settings = TencentSmsSettings(
                secret_id="AKIDpull",
                secret_key="tc-secret",
                sdk_app_id="1400006666",
                sign_name=SIGN,
                endpoint=url,
            )
            return TencentSmsChannel(settings)

        ids, phones = await sms_sends(engine, channel(), "1110", {"1": "8折"}, 2)
        reports = emu.status_callbacks(failed={f"+86{phones[1]}": "MK:0001"})
        pushed = [r for r in reports if r["mobile"] == phones[0]]
        answer = client.post("/receipts/sms/tencent", params={"token": SECRET}, json=pushed)
        assert answer.status_code == 200
        with session_scope(engine) as s:
            before = event_total(s)
        async with channel() as ch:
            pulled = await pull_tencent(engine, ch)
        assert (pulled.received, pulled.stored, pulled.unmatched, pulled.errors) == (2, 1, 0, {})
        with session_scope(engine) as s:
            assert event_total(s) == before + 1
            assert [events_of(s, i) for i in ids] == [["delivered"], ["failed_delivery"]]
        async with channel() as ch:
            empty = await pull_tencent(engine, ch)
        assert (empty.asked, empty.received) == (1, 0)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), "pull-receipts", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=120,
    )


async def test_operators_pull_receipts_from_the_configured_provider(engine: Engine) -> None:
    emu = AliyunSmsEmulator(
        access_key_id="LTAI5tCli",
        access_key_secret="cli-secret",
        sign_names=[SIGN],
        templates={"SMS_100001": ["name"]},
    )
    database = engine.url.render_as_string(hide_password=False)
    with serve(emu.app) as url:
        env = {
            "DATABASE_URL": database,
            "OMNIREACH_CHANNEL_PROVIDERS": "sms=aliyun",
            "OMNIREACH_ALIYUN_SMS_ACCESS_KEY_ID": "LTAI5tCli",
            "OMNIREACH_ALIYUN_SMS_ACCESS_KEY_SECRET": "cli-secret",
            "OMNIREACH_ALIYUN_SMS_SIGN_NAME": SIGN,
            "OMNIREACH_ALIYUN_SMS_ENDPOINT": f"{url}/",
        }
        settings = AliyunSmsSettings(
            access_key_id="LTAI5tCli",
            access_key_secret="cli-secret",
            sign_name=SIGN,
            endpoint=f"{url}/",
        )
        ids, _ = await sms_sends(
            engine, AliyunSmsChannel(settings), "SMS_100001", {"name": "张"}, 1
        )
        emu.settle()
        done = _cli(env, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["stored"] == 1
    with session_scope(engine) as s:
        assert events_of(s, ids[0]) == ["delivered"]


def test_pull_receipts_names_what_is_missing() -> None:
    sandbox = _cli({"OMNIREACH_CHANNEL_PROVIDERS": "email=smtp"})
    assert sandbox.returncode == 1
    assert "OMNIREACH_CHANNEL_PROVIDERS: sms goes to the sandbox" in sandbox.stderr
    unset = _cli({"OMNIREACH_CHANNEL_PROVIDERS": "sms=tencent"})
    assert unset.returncode == 1 and "OMNIREACH_TENCENT_SMS_SECRET_ID is not set" in unset.stderr
    assert "Traceback" not in sandbox.stderr + unset.stderr


async def test_a_refused_query_is_counted_by_its_code_and_stores_nothing(engine: Engine) -> None:
    emu = AliyunSmsEmulator(
        access_key_id="LTAI5tErr",
        access_key_secret="right-secret",
        sign_names=[SIGN],
        templates={"SMS_100001": ["name"]},
    )
    with serve(emu.app) as url:

        def channel(secret: str) -> AliyunSmsChannel:
            settings = AliyunSmsSettings(
                access_key_id="LTAI5tErr",
                access_key_secret=secret,
                sign_name=SIGN,
                endpoint=f"{url}/",
            )
            return AliyunSmsChannel(settings)

        ids, _ = await sms_sends(engine, channel("right-secret"), "SMS_100001", {"name": "张"}, 1)
        emu.settle()
        async with channel("wrong-secret") as ch:
            refused = await pull_aliyun(engine, ch)
    assert set(refused.errors) == {"SignatureDoesNotMatch"} and refused.stored == 0
    with session_scope(engine) as s:
        assert events_of(s, ids[0]) == []
