"""CN-11 outbound marketing calls: the whitelist (consented numbers only, PII encrypted, masked
output), calls to other numbers suppressed `not_whitelisted` at send time and stopped at plan
time, a refusal during a call sets do-not-call across campaigns and takes the number off,
every call leaves evidence (caller, encrypted callee, time, consent id, recording), and calls
keep the legal window of marketing SMS (CN-07)."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, time
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select
from starlette.testclient import TestClient
from typer.testing import CliRunner

import cli.call_whitelist_commands  # noqa: F401  (registers the commands)
from channels.outbound_call import OutboundCallChannel, OutboundCallSettings
from cli.common import app
from cli.errors import OperatorError
from compliance.check import check_campaign
from compliance.sending_window import legal_window
from consent.call_whitelist import WhitelistRefused, add_number, list_numbers, remove_number
from db.engine import session_scope
from emulators.call_center import CallCenterEmulator
from emulators.server import serve
from engagement.service import create_app
from governance.key_rotation import rotate_keys
from models.compliance_tables import CallEvidence, CallWhitelistEntry
from models.spec import CampaignSpec
from models.tables import AuditEntry
from optout.apply import opt_out
from optout.erasure import forget
from planning.plan_stats import plan_stats
from privacy.cipher import decrypt, encrypt, key_id
from privacy.keys import KeyRing, parse_keyring
from sending.checks import screen
from sending.claim import Claimed
from tests.engagement.kit import make_campaign, make_send, message_for, record_delivery
from tests.governance.dbkit import NOW, fresh_database, is_contactable, make_customer, unique_phone

CALL_SECRET = "callcenter-secret-0123"
SPEC = CampaignSpec.model_validate(
    {
        "name": "电话回访",
        "objective": "reactivate",
        "owner": "ops",
        "audience": {"consent": "outbound_call"},
        "channels": [{"channel": "outbound_call", "template": "ai_voice", "body": "您好"}],
        "send_window": {"start": "2025-03-01T09:00:00+08:00", "end": "2025-03-03T20:00:00+08:00"},
        "quiet_hours": None,
        "budget": {"limit": "1000"},
    }
)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with fresh_database() as (made, _):
        yield made


def test_only_consenting_numbers_go_on_the_list_encrypted(engine: Engine) -> None:
    with session_scope(engine) as s:
        phone = unique_phone()
        make_customer(s, phone=phone, grant=("outbound_call",))
        no_consent = unique_phone()
        make_customer(s, phone=no_consent, grant=("sms",))
        assert add_number(s, "+86 " + phone, by="王芳", at=NOW)
        assert not add_number(s, phone, by="王芳", at=NOW)  # already there
        with pytest.raises(WhitelistRefused, match=r"no customer with current consent"):
            add_number(s, no_consent, by="王芳", at=NOW)
        with pytest.raises(WhitelistRefused, match=r"phone: .* not a mainland mobile"):
            add_number(s, "12345", by="王芳", at=NOW)
        stored = s.execute(select(CallWhitelistEntry)).scalars().all()
        raw = b"".join(e.phone_enc for e in stored)
        assert phone.encode() not in raw  # ciphertext at rest
        assert decrypt(stored[-1].phone_enc, "phone") == phone
        listed = [n.phone for n in list_numbers(s)]
        assert f"{phone[:3]}****{phone[-4:]}" in listed and phone not in listed
        actions = s.execute(select(AuditEntry.action, AuditEntry.detail)).all()
        assert (
            "call_whitelist.added",
            {"phone": listed[-1], "consent_event_id": stored[-1].consent_event_id},
        ) in [(a, d) for a, d in actions]
        assert phone not in json.dumps([d for _, d in actions], ensure_ascii=False)
        assert remove_number(s, phone, by="王芳", at=NOW)
        assert not remove_number(s, phone, by="王芳", at=NOW)


def test_a_suppressed_number_cannot_be_whitelisted(engine: Engine) -> None:
    with session_scope(engine) as s:
        phone = unique_phone()
        c = make_customer(s, phone=phone, grant=("outbound_call",))
        opt_out(s, customer_id=c.id, channel="outbound_call", source="test", at=NOW, actor="t")
        with pytest.raises(WhitelistRefused, match="do-not-call"):
            add_number(s, phone, by="王芳", at=NOW)


def _claimed(send_id: int, customer_id: int) -> Claimed:
    return Claimed(send_id, customer_id, "outbound_call", "ai_voice", Decimal("0.5"), "k", 0)


def test_a_call_waits_for_the_window_marketing_sms_keeps(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OMNIREACH_CHANNEL_PROVIDERS", raising=False)
    sms, call = legal_window("sms"), legal_window("outbound_call")
    assert sms is not None and call is not None
    assert (call.start, call.end) == (sms.start, sms.end) == (time(8), time(20))
    late = datetime(2025, 3, 1, 13, 30, tzinfo=UTC)  # 21:30 in Shanghai
    with session_scope(engine) as s:
        phone = unique_phone()
        customer = make_customer(s, phone=phone, grant=("outbound_call",))
        add_number(s, phone, by="王芳", at=NOW)
        send = make_send(s, make_campaign(s), customer.id, "outbound_call", delivered=False)
        screened = screen(s, [_claimed(send.id, customer.id)], SPEC, late)
    assert not screened.ready and not screened.suppressed
    assert [(c.customer_id, when) for c, when in screened.deferred] == [
        (customer.id, datetime(2025, 3, 2, 0, 0, tzinfo=UTC))  # 08:00 the next morning
    ]


def test_calls_to_numbers_off_the_list_are_suppressed_and_block_the_plan(engine: Engine) -> None:
    with session_scope(engine) as s:
        listed_phone, other_phone = unique_phone(), unique_phone()
        listed = make_customer(s, phone=listed_phone, grant=("outbound_call",))
        other = make_customer(s, phone=other_phone, grant=("outbound_call",))
        add_number(s, listed_phone, by="王芳", at=NOW)
        assert is_contactable(s, listed.id, "outbound_call")
        assert not is_contactable(s, other.id, "outbound_call")  # research and planning
        campaign = make_campaign(s)
        sends = [
            make_send(s, campaign, c.id, "outbound_call", delivered=False) for c in (listed, other)
        ]
        screened = screen(s, [_claimed(p.id, p.customer_id) for p in sends], SPEC, NOW)
        assert [c.customer_id for c, _ in screened.ready] == [listed.id]
        assert [(c.customer_id, why) for c, why in screened.suppressed] == [
            (other.id, "not_whitelisted")
        ]
        stats = plan_stats(s, campaign, SPEC, 14, NOW)
    assert stats.calls_not_whitelisted == 1
    found = [f for f in check_campaign(SPEC, stats) if f.rule_id == "CN-11"]
    assert [(f.severity.value, f.evidence) for f in found] == [("block", "1 calls")]
    clean = check_campaign(SPEC, stats.model_copy(update={"calls_not_whitelisted": 0}))
    assert not [f for f in clean if f.rule_id == "CN-11"]


@pytest.fixture(scope="module")
def service(engine: Engine) -> Iterator[TestClient]:
    with TestClient(
        create_app(engine, environ={"OMNIREACH_OUTBOUND_CALL_SECRET": CALL_SECRET})
    ) as c:
        yield c


async def test_refusal_sets_do_not_call_everywhere_and_evidence_is_kept(
    engine: Engine, service: TestClient
) -> None:
    emu = CallCenterEmulator(secret=CALL_SECRET)
    phone = unique_phone()
    with session_scope(engine) as s:
        customer = make_customer(s, phone=phone, grant=("outbound_call",))
        add_number(s, phone, by="王芳", at=NOW)
        consent_id = s.execute(select(CallWhitelistEntry.consent_event_id)).scalars().all()[-1]
        first, second = make_campaign(s), make_campaign(s)
        send = make_send(s, first, customer.id, "outbound_call", delivered=False)
        later = make_send(s, second, customer.id, "outbound_call", delivered=False)
        send_id, later_id, task = send.id, later.id, send.idempotency_key
        with serve(emu.app) as url:
            settings = OutboundCallSettings(
                url=f"{url}/calls", secret=CALL_SECRET, caller_id="02150001234"
            )
            async with OutboundCallChannel(settings) as ch:
                [result] = await ch.send_batch([message_for(send, phone, "ai_voice", {})])
        record_delivery(s, send, result)
    headers, body = emu.callback(task, "refused", duration_seconds=9)
    assert service.post("/calls/result", headers=headers, content=body).status_code == 200
    again_headers, again = emu.callback(task, "refused", duration_seconds=9)
    assert service.post("/calls/result", headers=again_headers, content=again).status_code == 200
    with session_scope(engine) as s:
        [evidence] = s.execute(
            select(CallEvidence).where(CallEvidence.planned_send_id == send_id)
        ).scalars()
        assert evidence.caller == "02150001234" and evidence.result == "refused"
        assert evidence.consent_event_id == consent_id
        assert evidence.recording_ref and evidence.recording_ref.endswith(".mp3")
        assert evidence.callee_enc is not None and phone.encode() not in evidence.callee_enc
        assert decrypt(evidence.callee_enc, "phone") == phone
        assert evidence.called_at is not None
        assert not is_contactable(s, customer.id, "outbound_call")
        assert not [n for n in list_numbers(s) if n.phone.endswith(phone[-4:])]
        # the other campaign's call to the same number is stopped at send time too
        screened = screen(s, [_claimed(later_id, customer.id)], SPEC, NOW)
        assert [why for _, why in screened.suppressed] == ["consent_revoked"]
        # do-not-call holds for the number: another record with it and a call consent is out
        twin = make_customer(s, phone=phone, grant=("outbound_call",))
        assert not is_contactable(s, twin.id, "outbound_call")
        with pytest.raises(WhitelistRefused, match="do-not-call"):
            add_number(s, phone, by="王芳", at=NOW)


def test_the_command(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", url)
    phone = unique_phone()
    with session_scope(engine) as s:
        make_customer(s, phone=phone, grant=("outbound_call",))

    def run(*args: str):
        return CliRunner().invoke(app, ["call-whitelist", *args], env={"DATABASE_URL": url})

    assert "already" not in run("add", phone, "--as", "王芳").output
    assert "already on" in run("add", phone, "--as", "王芳").output
    unnamed = run("add", phone)
    assert isinstance(unnamed.exception, OperatorError) and "--as" in str(unnamed.exception)
    refused = run("add", "13", "--as", "王芳")
    assert isinstance(refused.exception, OperatorError) and refused.exception.code == 2
    assert "phone" in str(refused.exception)
    listed = run("list", "--json")
    assert f"{phone[:3]}****{phone[-4:]}" in listed.output and phone not in listed.output
    assert "removed" in run("remove", phone, "--as", "王芳").output
    assert "not on" in run("remove", phone, "--as", "王芳").output


def test_erasure_and_key_rotation_reach_the_call_tables() -> None:
    index = base64.b64encode(secrets.token_bytes(32)).decode()
    keys = {k: base64.b64encode(secrets.token_bytes(32)).decode() for k in ("old", "new")}
    old = parse_keyring(f"old:{keys['old']}", index)
    both = parse_keyring(f"new:{keys['new']},old:{keys['old']}", index)
    with fresh_database() as (engine, _):  # every ciphertext in it is one of this test's
        _erase_and_rotate(engine, old, both)


def _erase_and_rotate(engine: Engine, old: KeyRing, both: KeyRing) -> None:
    with session_scope(engine) as s:
        phone = unique_phone()
        customer = make_customer(s, phone=phone, grant=("outbound_call",))
        add_number(s, phone, by="王芳", at=NOW)
        forget(s, customer.id, actor="客服", at=NOW)
        assert not [n for n in list_numbers(s) if n.phone.endswith(phone[-4:])]
        s.add(
            CallWhitelistEntry(
                phone_enc=encrypt("13912345678", "phone", old),
                phone_index="rot-" + secrets.token_hex(8),
                consent_event_id=1,
                added_by="t",
                added_at=NOW,
            )
        )
        s.add(
            CallEvidence(
                planned_send_id=10**9 + secrets.randbelow(10**6),
                campaign_id="c",
                customer_id=customer.id,
                callee_enc=encrypt("13912345678", "phone", old),
                result="answered",
                called_at=NOW,
            )
        )
    with session_scope(engine) as s:
        rotate_keys(s, ring=both)
        blobs = [
            *s.execute(select(CallWhitelistEntry.phone_enc)).scalars(),
            *s.execute(select(CallEvidence.callee_enc)).scalars(),
        ]
        assert blobs and all(key_id(b) == "new" for b in blobs if b is not None)
