"""A campaign's research, planning and compliance check run for real, then undone.

`dry_run` registers a throw-away campaign row, takes the audience snapshot, makes the plan and
runs the compliance check with the code the workflow's activities use (`take_snapshot`,
`make_plan`, `plan_stats` + `check_campaign`), then foresees the frequency-cap collisions with
other running campaigns and renders a few messages — all in one database transaction that is
always rolled back. Nothing is written; what it reports is what the campaign would do if it
were started now, against the customers, consents and campaigns as they stand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from audience.snapshot import take_snapshot
from compliance.check import check_campaign, minimum_age
from compliance.findings import Finding, Severity
from compliance.sending_window import legal_window
from db.campaigns import campaign_row
from models.spec import CampaignSpec
from planning.plan import make_plan
from planning.plan_stats import plan_stats
from planning.report import load_plan_report
from policy.frequency_cap import load_caps
from preview.collisions import cap_collisions
from preview.samples import Sample, samples
from preview.verdict import nothing_sent


class Preview(BaseModel):
    """What `preview` shows and `start` checks (JSON as is)."""

    as_of: datetime
    name: str
    audience: int
    holdout: int
    targeted: int
    reachable_by_channel: dict[str, int]
    excluded: dict[str, int]  # research: members no channel can reach (no_consent, no_address)
    plan: dict[str, Any]  # the budget report `plan` shows the approver (planning.report)
    skipped_at_send: dict[str, int]  # planned, but the send-time checks would refuse them
    sending_windows: dict[str, str]  # marketing channels with a legal window → the window
    findings: list[Finding]
    samples: list[Sample]
    expected_sends: int
    nothing_sent: str | None  # why the campaign would send nothing, or None

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.BLOCK]


@contextmanager
def rolled_back(engine: Engine) -> Iterator[Session]:
    """A session whose whole transaction is rolled back, whatever happens in it."""
    session = Session(engine, expire_on_commit=False)
    session.begin()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def dry_run(engine: Engine, spec: CampaignSpec, at: datetime) -> Preview:
    """Research, plan and check `spec` as of `at`, report, and undo it all."""
    # the holdout is drawn by hashing the campaign id: one id per spec keeps previews stable
    campaign_id = f"preview-{hashlib.sha256(spec.model_dump_json().encode()).hexdigest()[:10]}"
    with rolled_back(engine) as session:
        session.add(campaign_row(campaign_id, spec, "preview", at, phase="preview"))
        session.flush()
        found = take_snapshot(session, campaign_id, spec, at)
        make_plan(session, campaign_id, spec, at)
        report = load_plan_report(session, campaign_id) or {}
        stats = plan_stats(session, campaign_id, spec, minimum_age(), at)
        findings = check_campaign(spec, stats)
        skipped = cap_collisions(session, campaign_id, spec, load_caps())
        if stats.minors_planned:
            skipped["minor"] = stats.minors_planned
        shown = samples(session, campaign_id, spec)
    planned = int(report.get("totals", {}).get("planned", 0))
    expected = max(0, planned - sum(skipped.values()))
    windows: dict[str, str] = {
        p.channel: str(w)
        for p in spec.channels
        if p.marketing and (w := legal_window(p.channel)) is not None
    }
    return Preview(
        as_of=at,
        name=spec.name,
        audience=found.audience,
        holdout=found.holdout,
        targeted=found.targeted,
        reachable_by_channel=found.reachable_by_channel,
        excluded=found.excluded,
        plan=report,
        skipped_at_send=skipped,
        sending_windows=windows,
        findings=findings,
        samples=shown,
        expected_sends=expected,
        nothing_sent=nothing_sent(spec, found, report, skipped, windows) if not expected else None,
    )
