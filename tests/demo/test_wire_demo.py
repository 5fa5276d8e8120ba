"""The demo campaign on a real Temporal dev server and PostgreSQL, sending through the SMTP,
Alibaba Cloud SMS and JPush emulators of `demo.wire`: every planned send crosses the wire once,
in each provider's format, and the printed summary carries no plaintext contact data."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import Engine, select
from temporalio.testing import WorkflowEnvironment

import activities.context
from activities.context import WorkerContext, configure
from channels.email_mime import message_id
from channels.registry import build_channels
from channels.sms_aliyun import rpc_signature
from db.engine import make_engine, session_scope
from demo.seed import seed_demo
from demo.wire import SENDER, wire_emulators
from governance.pia import KIND as PIA_KIND
from governance.pia import record_assessment
from governance.signing import sign
from models.contracts import CampaignInput, Phase
from models.tables import Customer, Delivery, PlannedSend
from orchestration.worker_setup import build_worker
from policy.frequency_cap import CapRules
from privacy.cipher import decrypt
from tests.campaigns import new_id, send_statuses, spec_at
from tests.conftest import ROOT, create_database, drop_database, migrate
from tests.people import KEYS, decide, enroll_people
from tests.workflows.test_campaign_workflow import until_phase
from workflows.campaign import CampaignWorkflow, workflow_id

DEMO = yaml.safe_load((ROOT / "examples" / "demo-campaign.yaml").read_text(encoding="utf-8"))
PHONE_LIKE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86)?1[3-9]\d{9}(?![0-9A-Za-z])")
EMAIL_LIKE = re.compile(r"[\w.%+-]+@[\w.-]+\.[A-Za-z]{2,}")
T = TypeVar("T")


def given(value: T | None) -> T:
    """A field every seeded demo customer has (narrows the Optional column)."""
    assert value is not None
    return value


@pytest.fixture(scope="module")
def base() -> Iterator[Engine]:
    """120 demo customers in a database of their own, an admin, an approver and a compliance
    officer who recorded the impact assessment the demo campaign cites (CN-27)."""
    url = create_database("omni_wire")
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        seed_demo(session, customers=120)
        enroll_people(session, "李娜", "陈静")
        now = datetime.now(UTC)
        signed = sign(KEYS["陈静"], kind=PIA_KIND, subject=DEMO["pia"], by="陈静", at=now)
        record_assessment(
            session,
            signed,
            pia_id=DEMO["pia"],
            title="demo",
            scope="demo",
            valid_until=None,
            at=now,
        )
    yield engine
    engine.dispose()
    drop_database(url)


def planned_by_channel(engine: Engine, campaign_id: str) -> dict[str, dict[str, Customer]]:
    """channel → idempotency key → customer, for the campaign's planned sends."""
    out: dict[str, dict[str, Customer]] = {}
    with session_scope(engine) as session:
        rows = session.execute(
            select(PlannedSend.channel, PlannedSend.idempotency_key, Customer)
            .join(Customer, Customer.id == PlannedSend.customer_id)
            .where(PlannedSend.campaign_id == campaign_id)
        ).all()
    for channel, key, customer in rows:
        out.setdefault(channel, {})[key] = customer
    return out


def provider_ids(engine: Engine, campaign_id: str, channel: str) -> set[str | None]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                select(Delivery.provider_message_id).where(
                    Delivery.campaign_id == campaign_id, Delivery.channel == channel
                )
            ).scalars()
        )


async def run_demo_campaign(env: WorkflowEnvironment, queue: str) -> tuple[str, int, Phase]:
    now = datetime.now(UTC)
    beijing = now.astimezone(ZoneInfo("Asia/Shanghai"))  # quiet hours (CN-07) starting later
    quiet = {
        "start": f"{(beijing + timedelta(hours=2)).hour:02d}:00",
        "end": f"{(beijing + timedelta(hours=10)).hour:02d}:00",
    }
    spec = spec_at(
        now,
        audience=DEMO["audience"],
        channels=DEMO["channels"],
        pia=DEMO["pia"],
        quiet_hours=quiet,
        send_window={"start": now + timedelta(seconds=2), "end": now + timedelta(seconds=10)},
        review={"delay": "2s", "attribution_window": "2s"},
    )
    cid = new_id()
    async with build_worker(env.client, queue):
        handle = await env.client.start_workflow(
            CampaignWorkflow.run,
            CampaignInput(campaign_id=cid, spec=spec, requested_by="王芳", slot_seconds=2),
            id=workflow_id(cid),
            task_queue=queue,
        )
        planned = (await until_phase(handle, Phase.AWAITING_APPROVAL)).counters.planned
        await decide(handle, "approve", by="李娜", comment="同意")
        final = await handle.result()
    assert final.counters.sent == planned, final.detail
    return cid, planned, final.phase


def sms_all_day(tmp_path: Path) -> Path:
    """The default compliance rules with aliyun's SMS window open around the clock: this test
    checks the wire formats at any hour; the window itself is tested in tests/planning."""
    doc = yaml.safe_load((ROOT / "config" / "compliance" / "default.yaml").read_text("utf-8"))
    doc["rules"]["CN-07"]["params"]["provider_windows"]["sms"]["aliyun"] = ["00:00", "00:00"]
    path = tmp_path / "compliance.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def check_mail(mail: EmailMessage) -> None:
    assert mail.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    assert mail["Subject"].startswith("【广告】")
    assert re.fullmatch(
        r"<https://[^>]+/u/[\w-]+>, <mailto:unsubscribe@[^>]+>", str(mail["List-Unsubscribe"])
    )
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_demo_campaign_goes_over_smtp_aliyun_sms_and_jpush(
    dev_env: WorkflowEnvironment,
    base: Engine,
    task_queue: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OMNIREACH_PUBLIC_URL", raising=False)
    monkeypatch.setattr(activities.context, "_current", None)  # restored for later tests
    with wire_emulators(tmp_path, base) as wire:
        for name, value in wire.env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("OMNIREACH_COMPLIANCE_CONFIG", str(sms_all_day(tmp_path)))
        channels = build_channels(base)
        configure(WorkerContext(engine=base, channels=channels, caps=CapRules.unlimited()))
        try:
            cid, planned, phase = await run_demo_campaign(dev_env, task_queue)
        finally:
            for channel in channels.values():
                if (close := getattr(channel, "aclose", None)) is not None:
                    await close()
        summary = wire.summary()
    sends = planned_by_channel(base, cid)
    assert phase == Phase.COMPLETED
    assert send_statuses(base, cid) == {"sent": planned}
    assert {ch: len(keys) for ch, keys in sends.items()} == {
        "app_push": len(wire.jpush.deliveries),
        "email": len(wire.smtp.received),
        "sms": len(wire.aliyun.deliveries),
    }
    assert all(sends.get(ch) for ch in ("app_push", "email", "sms")), "a channel got no sends"
    assert sum(map(len, sends.values())) == planned

    mails = wire.smtp.received
    domain = SENDER.partition("@")[2]
    assert (
        {str(m.message["Message-ID"]) for m in mails}
        == {message_id(key, domain) for key in sends["email"]}
        == provider_ids(base, cid, "email")
    )
    assert sorted(r for m in mails for r in m.rcpt_tos) == sorted(
        given(decrypt(c.email_enc, "email")) for c in sends["email"].values()
    )
    assert wire.smtp.authenticated and all(m.mail_from == SENDER for m in mails)
    check_mail(mails[0].message)

    secret = wire.env["OMNIREACH_ALIYUN_SMS_ACCESS_KEY_SECRET"]
    requests = [dict(parse_qsl(x.body.decode())) for x in wire.sms_wire.exchanges]
    assert len(requests) == len(sends["sms"])  # no request refused or retried
    for params in requests:
        signature = params.pop("Signature")
        assert rpc_signature(params, secret) == signature
        assert (params["Action"], params["TemplateCode"]) == ("SendSms", "SMS_205123456")
        assert decrypt(sends["sms"][params["OutId"]].phone_enc, "phone") == params["PhoneNumbers"]
    assert {d.key for d in wire.aliyun.deliveries} == set(sends["sms"])
    assert {json.loads(x.answer)["BizId"] for x in wire.sms_wire.exchanges} == provider_ids(
        base, cid, "sms"
    )

    pushes = [json.loads(x.body) for x in wire.push_wire.exchanges if x.path == "/v3/push"]
    assert sorted(p["audience"]["registration_id"][0] for p in pushes) == sorted(
        given(c.device_id) for c in sends["app_push"].values()
    )
    assert len({p["cid"] for p in pushes}) == len(pushes) and all(
        p["cid"] in wire.jpush.issued for p in pushes
    )
    assert {
        json.loads(x.answer)["msg_id"] for x in wire.push_wire.exchanges if x.path == "/v3/push"
    } == provider_ids(base, cid, "app_push")

    for provider in ("SMTP", "Alibaba Cloud SendSms", "JPush v3"):
        assert provider in summary
    assert not PHONE_LIKE.findall(summary)
    assert all("***@" in e or e.endswith("@" + domain) for e in EMAIL_LIKE.findall(summary))
    for customer in (c for keyed in sends.values() for c in keyed.values()):
        assert given(decrypt(customer.phone_enc, "phone")) not in summary
        assert given(decrypt(customer.email_enc, "email")) not in summary
