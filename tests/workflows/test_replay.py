"""Campaigns live for days: every history recorded from a released version must replay against
the current workflow code, or a deploy would break the campaigns running at that moment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from models.contracts import CampaignInput, CampaignStatus, Counters, Phase
from workflows.campaign import CampaignWorkflow
from workflows.profile_refresh import ProfileRefreshWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*/*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"{path.parent.name}-{path.stem}", path.read_text())


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: f"{p.parent.name}/{p.stem}")
async def test_recorded_history_replays_on_current_code(path: Path) -> None:
    replayer = Replayer(
        workflows=[CampaignWorkflow, ProfileRefreshWorkflow], data_converter=pydantic_data_converter
    )
    await replayer.replay_workflow(load(path))


def test_every_kind_of_running_campaign_is_recorded() -> None:
    names = {p.stem for p in HISTORIES}
    assert {
        "campaign_awaiting_approval",
        "campaign_mid_send",
        "campaign_first_run_continued_as_new",
        "campaign_awaiting_review_after_continue_as_new",
        "campaign_completed",
        "journey_at_a_wait",
        "journey_completed",
        "profile_refresh",
    } <= names


@workflow.defn(name="CampaignWorkflow")
class ReorderedCampaignWorkflow:
    """A careless change: the phase is recorded before the campaign is registered."""

    @workflow.run
    async def run(self, inp: CampaignInput) -> CampaignStatus:
        await workflow.execute_activity(
            "record_phase", inp.campaign_id, start_to_close_timeout=timedelta(seconds=30)
        )
        await workflow.execute_activity(
            "register_campaign", inp.campaign_id, start_to_close_timeout=timedelta(seconds=30)
        )
        return CampaignStatus(
            campaign_id=inp.campaign_id, phase=Phase.RESEARCH, counters=Counters()
        )


async def test_an_unguarded_reordering_fails_replay() -> None:
    """What the replay tests catch: without `workflow.patched`, reordering breaks replay."""
    replayer = Replayer(
        workflows=[ReorderedCampaignWorkflow], data_converter=pydantic_data_converter
    )
    result = await replayer.replay_workflow(
        load(Path(__file__).parent / "histories" / "v1" / "campaign_awaiting_approval.json"),
        raise_on_replay_failure=False,
    )
    assert "nondeterminism" in str(result.replay_failure).lower()


async def test_the_patch_is_what_keeps_older_campaigns_replaying(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Take the guard away (every run behaves as new) and an older campaign that was cancelled
    no longer replays: the guard is needed, not decoration."""
    monkeypatch.setattr(workflow, "patched", lambda _patch_id: True)
    replayer = Replayer(workflows=[CampaignWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(
        load(
            Path(__file__).parent / "histories" / "v1" / "campaign_cancelled_awaiting_approval.json"
        ),
        raise_on_replay_failure=False,
    )
    assert "nondeterminism" in str(result.replay_failure).lower()
