"""A campaign end to end on a real Temporal dev server and PostgreSQL: every planned send once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from models.contracts import CampaignInput, Phase
from models.search_attributes import CAMPAIGN_OBJECTIVE, CAMPAIGN_PHASE
from models.tables import Customer, Delivery, SandboxOutbox
from orchestration.worker_setup import build_worker
from privacy.cipher import decrypt
from tests.campaigns import new_id, outbox_count, send_statuses, spec_at
from tests.people import decide
from tests.workflows.test_campaign_workflow import until_phase
from workflows.campaign import CampaignWorkflow, workflow_id


async def test_demo_campaign_end_to_end(
    dev_env: WorkflowEnvironment, seeded: Engine, task_queue: str
) -> None:
    now = datetime.now(UTC)
    spec = spec_at(
        now,
        send_window={"start": now + timedelta(seconds=2), "end": now + timedelta(seconds=12)},
        review={"delay": "2s", "attribution_window": "2s"},
        audience={"any": [{"consent": "app_push"}, {"consent": "email"}]},
        channels=[
            {
                "channel": "app_push",
                "template": "p1",
                "priority": 1,
                "body": "{{ honorific }}，会员日礼券已到账，{{ end_time }}前有效。",
            },
            {
                "channel": "email",
                "template": "e1",
                "priority": 2,
                "subject": "【广告】{{ honorific }}，会员日礼券",
                "body": "{{ honorific }}您好，礼券{{ end_time }}前有效。退订：{{ unsubscribe_url }}",
            },
        ],
    )
    cid = new_id()
    async with build_worker(dev_env.client, task_queue):
        handle = await dev_env.client.start_workflow(
            CampaignWorkflow.run,
            CampaignInput(campaign_id=cid, spec=spec, requested_by="王芳", slot_seconds=2),
            id=workflow_id(cid),
            task_queue=task_queue,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(CAMPAIGN_PHASE, "research"),
                    SearchAttributePair(CAMPAIGN_OBJECTIVE, "reactivate"),
                ]
            ),
        )
        planned = (await until_phase(handle, Phase.AWAITING_APPROVAL)).counters.planned
        await decide(handle, "approve", by="李娜", comment="同意")
        final = await handle.result()
        desc = await handle.describe()
    assert final.phase == Phase.COMPLETED, final.detail
    assert desc.typed_search_attributes.get(CAMPAIGN_PHASE) == "completed"
    assert planned > 0 and final.counters.sent == planned
    assert send_statuses(seeded, cid) == {"sent": planned}
    assert outbox_count(seeded, cid) == planned
    with seeded.connect() as conn:
        keys = conn.execute(
            select(func.count(func.distinct(SandboxOutbox.idempotency_key))).where(
                SandboxOutbox.campaign_id == cid
            )
        ).scalar_one()
        made = conn.execute(
            select(func.count()).select_from(Delivery).where(Delivery.campaign_id == cid)
        ).scalar_one()
        channels = dict(
            conn.execute(
                select(SandboxOutbox.channel, func.count())
                .where(SandboxOutbox.campaign_id == cid)
                .group_by(SandboxOutbox.channel)
            ).all()
        )
    assert keys == made == planned
    assert set(channels) <= {"app_push", "email"}


async def test_pii_is_ciphertext_at_rest_and_absent_from_temporal_history(
    dev_env: WorkflowEnvironment, seeded: Engine, task_queue: str
) -> None:
    now = datetime.now(UTC)
    spec = spec_at(
        now,
        send_window={"start": now + timedelta(seconds=1), "end": now + timedelta(seconds=4)},
        review={"delay": "1s", "attribution_window": "1s"},
    )
    cid = new_id()
    async with build_worker(dev_env.client, task_queue):
        handle = await dev_env.client.start_workflow(
            CampaignWorkflow.run,
            CampaignInput(campaign_id=cid, spec=spec, requested_by="王芳", slot_seconds=1),
            id=workflow_id(cid),
            task_queue=task_queue,
        )
        await until_phase(handle, Phase.AWAITING_APPROVAL)
        await decide(handle, "approve", by="李娜")
        assert (await handle.result()).phase == Phase.COMPLETED
        history = b"".join([e.SerializeToString() async for e in handle.fetch_history_events()])
    with seeded.connect() as conn:
        rows = conn.execute(
            select(Customer.phone_enc, Customer.email_enc, Customer.name_enc)
            .join(SandboxOutbox, SandboxOutbox.customer_id == Customer.id)
            .where(SandboxOutbox.campaign_id == cid)
            .limit(50)
        ).all()
    assert rows
    for phone_enc, email_enc, name_enc in rows:
        assert phone_enc and email_enc and name_enc
        phone, email, name = (
            decrypt(phone_enc, "phone"),
            decrypt(email_enc, "email"),
            decrypt(name_enc, "name"),
        )
        assert phone and phone.encode() not in phone_enc and email.encode() not in email_enc
        for value in (phone, email, name):
            assert value.encode() not in history, "plaintext PII in Temporal history"
    assert b"binary/encrypted" in history
    assert "会员日礼券".encode() not in history  # payloads (the spec itself) are encrypted too
