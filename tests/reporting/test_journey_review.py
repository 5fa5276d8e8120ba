"""A journey's review on PostgreSQL: step and variant rows written directly, so each step's
funnel, each variant's counts and the A/B comparison are known in advance.

The journey: `first` sends variant A or B → `pause` 1d → `check`: who clicked `first` goes to
`thanks`, the rest to `remind`. 400 treated customers (0–199 get A, 200–399 B), 40 held out.
  A: 190 sent (0–189), 4 suppressed by the frequency cap, 2 by quiet hours, 2 failed, 2 with no
     channel; delivered 0–149, opened 0–59, clicked 0–18 (customer 0 twice); bought 0–9.
  B: 200 sent; delivered 200–359, opened 200–279, clicked 200–239, replied 200–202;
     bought 200–211.
  thanks: the 59 clickers, sent. remind: the 331 others; the first 300 sent, the last 31
     suppressed by the frequency cap; bought 250–254 after it.
Orders that count for no step: customer 20 a day and two minutes after `first` (outside the
1d window, before `remind`), customer 21 before any send.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select

from db.engine import session_scope
from models.engagement_tables import MessageEvent
from models.journey_tables import JourneyVisit, JourneyWinner
from models.spec import CampaignSpec
from models.tables import AudienceMember, Campaign, Customer, Delivery, Order, PlannedSend
from planning.step_sends import in_test
from reporting.html_page import render_page
from reporting.journey_table import variant_table
from reporting.review import compute_review
from reporting.store import save_report
from tests.campaigns import spec_at
from tests.reporting.conftest import NOW, cli, make_campaign

STEPS = [
    {
        "id": "first",
        "send": {
            "variants": [
                {"id": "A", "weight": 1, "body": "会员日礼券已到账"},
                {"id": "B", "weight": 1, "body": "会员日礼券今天到期"},
            ]
        },
        "next": "pause",
    },
    {"id": "pause", "wait": "1d", "next": "check"},
    {
        "id": "check",
        "branch": {
            "when": [{"if": {"engaged": {"step": "first", "did": "clicked"}}, "then": "thanks"}],
            "else": "remind",
        },
    },
    {"id": "thanks", "send": {"body": "谢谢您的关注"}},
    {"id": "remind", "send": {"body": "礼券还剩一天"}},
]
UNIT = Decimal("0.01")
REMIND_AT = NOW + timedelta(days=1, minutes=10)
SUPPRESSED_A = (
    dict.fromkeys(range(190, 194), "frequency_cap") | {194: "quiet_hours"} | {195: "quiet_hours"}
)


def _first_at(n: int) -> datetime:
    return NOW + timedelta(minutes=5, seconds=n)


def _first_events(n: int) -> list[str]:
    delivered = n < 150 or 200 <= n < 360
    opened = n < 60 or 200 <= n < 280
    clicked = n < 19 or 200 <= n < 240
    replied = 200 <= n < 203
    return [
        kind
        for kind, did in (
            ("delivered", delivered),
            ("opened", opened),
            ("clicked", clicked),
            ("replied", replied),
        )
        if did
    ] + (["clicked"] if n == 0 else [])


class Writer:
    """Adds a campaign's rows in a few flushes (sends first, for their ids)."""

    def __init__(self, campaign_id: str, people: list[Customer]) -> None:
        self.campaign_id, self.people = campaign_id, people
        self.sends: list[tuple[PlannedSend, datetime, list[str]]] = []
        self.visits: list[JourneyVisit] = []

    def visit(
        self,
        step: str,
        n: int,
        at: datetime,
        variant: str | None = None,
        outcome: str | None = None,
    ) -> None:
        self.visits.append(
            JourneyVisit(
                campaign_id=self.campaign_id,
                step=step,
                customer_id=self.people[n].id,
                entered_at=at,
                visits=1,
                variant=variant,
                outcome=outcome,
            )
        )

    def send(
        self,
        step: str,
        n: int,
        at: datetime,
        *,
        variant: str | None = None,
        status: str = "sent",
        reason: str | None = None,
        events: list[str] | None = None,
    ) -> None:
        row = PlannedSend(
            campaign_id=self.campaign_id,
            customer_id=self.people[n].id,
            channel="app_push",
            template="t-push",
            scheduled_at=at,
            unit_cost=UNIT,
            status=status,
            reason=reason,
            idempotency_key=f"{self.campaign_id}:{step}:{n}",
            step=step,
            variant=variant,
        )
        self.sends.append((row, at, events or []))

    def flush(self, s: Any) -> None:
        s.add_all(self.visits)
        s.add_all([row for row, _, _ in self.sends])
        s.flush()
        for row, at, events in self.sends:
            if row.status in ("sent", "failed"):
                s.add(
                    Delivery(
                        planned_send_id=row.id,
                        campaign_id=self.campaign_id,
                        customer_id=row.customer_id,
                        channel=row.channel,
                        template=row.template,
                        outcome=row.status,
                        cost=UNIT if row.status == "sent" else Decimal(0),
                        sent_at=at,
                    )
                )
            for i, kind in enumerate(events):
                s.add(
                    MessageEvent(
                        dedupe_key=f"{row.idempotency_key}:{i}",
                        event_type=kind,
                        channel=row.channel,
                        provider="test",
                        campaign_id=self.campaign_id,
                        planned_send_id=row.id,
                        customer_id=row.customer_id,
                        occurred_at=at,
                        received_at=at,
                    )
                )


def _reviewing(s: Any, campaign_id: str, spec: CampaignSpec, customers: int) -> list[Customer]:
    """A journey campaign in its review, and its customers (ids assigned)."""
    s.add(
        Campaign(
            id=campaign_id,
            name="会员日旅程",
            objective=spec.objective,
            owner="王芳",
            requested_by="王芳",
            spec=spec.model_dump(mode="json"),
            phase="reviewing",
            budget_limit=Decimal(1000),
            created_at=NOW,
            updated_at=NOW,
        )
    )
    people = [Customer(external_id=f"{campaign_id}-{n}") for n in range(customers)]
    s.add_all(people)
    s.flush()
    return people


def make_journey(engine: Engine, winner: bool = True) -> str:
    campaign_id = f"jr-{uuid.uuid4().hex[:8]}"
    spec = spec_at(NOW, steps=STEPS)
    with session_scope(engine) as s:
        people = _reviewing(s, campaign_id, spec, 440)
        s.add_all(
            AudienceMember(campaign_id=campaign_id, customer_id=p.id, holdout=n >= 400)
            for n, p in enumerate(people)
        )
        w = Writer(campaign_id, people)
        sent_first = [n for n in range(400) if n < 190 or n >= 200]
        for n in range(400):
            variant = "A" if n < 200 else "B"
            w.visit("first", n, _first_at(n), variant, "no_channel" if n in (198, 199) else None)
            if n in SUPPRESSED_A:
                why = SUPPRESSED_A[n]
                w.send("first", n, _first_at(n), variant=variant, status="suppressed", reason=why)
            elif n in (196, 197):
                w.send("first", n, _first_at(n), variant=variant, status="failed")
            elif n in sent_first:
                w.send("first", n, _first_at(n), variant=variant, events=_first_events(n))
        clickers = [n for n in sent_first if "clicked" in _first_events(n)]
        others = [n for n in sent_first if n not in clickers]
        for n in sent_first:
            w.visit("pause", n, _first_at(n) + timedelta(minutes=1))
            w.visit("check", n, NOW + timedelta(days=1, minutes=5))
        for n in clickers:
            w.visit("thanks", n, NOW + timedelta(days=1, minutes=6))
            w.send("thanks", n, REMIND_AT)
        for i, n in enumerate(others):
            w.visit("remind", n, NOW + timedelta(days=1, minutes=6))
            if i < 300:
                w.send("remind", n, REMIND_AT)
            else:
                w.send("remind", n, REMIND_AT, status="suppressed", reason="frequency_cap")
        w.flush(s)
        bought = [(n, _first_at(n) + timedelta(hours=3)) for n in [*range(10), *range(200, 212)]]
        bought += [(n, REMIND_AT + timedelta(hours=2)) for n in range(250, 255)]
        bought += [(20, _first_at(20) + timedelta(days=1, minutes=2)), (21, NOW)]
        s.add_all(
            Order(
                external_id=f"{campaign_id}-o{i}",
                customer_id=people[n].id,
                ordered_at=at,
                amount=Decimal("88.00"),
            )
            for i, (n, at) in enumerate(bought)
        )
        if winner:
            s.add(
                JourneyWinner(
                    campaign_id=campaign_id,
                    step="first",
                    variant="B",
                    metric="click",
                    decided_at=NOW + timedelta(hours=4),
                    rates={"A": 0.1, "B": 0.2},
                )
            )
    return campaign_id


def _review(engine: Engine, campaign_id: str) -> dict[str, Any]:
    with session_scope(engine) as s:
        report = compute_review(s, campaign_id, NOW + timedelta(days=3), final=True)
        save_report(s, campaign_id, "review", report, NOW + timedelta(days=3))
    return report


COUNTED = (
    "entered",
    "sent",
    "suppressed",
    "suppressed_by",
    "failed",
    "delivered",
    "opened",
    "clicked",
    "replied",
    "converted",
    "cost",
)


def _counts(line: dict[str, Any]) -> dict[str, Any]:
    return {k: line[k] for k in COUNTED}


def test_each_step_of_the_journey_in_spec_order(report_db: tuple[str, Engine]) -> None:
    _, engine = report_db
    steps = _review(engine, make_journey(engine))["journey"]["steps"]
    assert [(s["id"], s["kind"]) for s in steps] == [
        ("first", "send"),
        ("pause", "wait"),
        ("check", "branch"),
        ("thanks", "send"),
        ("remind", "send"),
    ]
    first, pause, check, thanks, remind = steps
    assert _counts(first) == {
        "entered": 400,
        "sent": 390,
        "suppressed": 6,
        "suppressed_by": {"frequency_cap": 4, "quiet_hours": 2},
        "failed": 2,
        "delivered": 310,
        "opened": 140,
        "clicked": 59,
        "replied": 3,
        "converted": 22,
        "cost": "3.90",
    }
    assert first["left"] == {"no_channel": 2}
    assert pause == {"id": "pause", "kind": "wait", "entered": 390}
    assert check == {
        "id": "check",
        "kind": "branch",
        "entered": 390,
        "went_to": {"thanks": 59, "remind": 331},
    }
    assert _counts(thanks) == {
        "entered": 59,
        "sent": 59,
        "suppressed": 0,
        "suppressed_by": {},
        "failed": 0,
        "delivered": 0,
        "opened": 0,
        "clicked": 0,
        "replied": 0,
        "converted": 0,  # their orders came before this send
        "cost": "0.59",
    }
    assert thanks["variants"] == [] and thanks["winner"] is None
    assert _counts(remind) == {
        "entered": 331,
        "sent": 300,
        "suppressed": 31,
        "suppressed_by": {"frequency_cap": 31},
        "failed": 0,
        "delivered": 0,
        "opened": 0,
        "clicked": 0,
        "replied": 0,
        "converted": 5,
        "cost": "3.00",
    }


def test_each_variant_against_the_control(report_db: tuple[str, Engine]) -> None:
    _, engine = report_db
    first = _review(engine, make_journey(engine))["journey"]["steps"][0]
    a, b = first["variants"]
    assert (a["id"], b["id"]) == ("A", "B")
    assert _counts(a) == {
        "entered": 200,
        "sent": 190,
        "suppressed": 6,
        "suppressed_by": {"frequency_cap": 4, "quiet_hours": 2},
        "failed": 2,
        "delivered": 150,
        "opened": 60,
        "clicked": 19,
        "replied": 0,
        "converted": 10,
        "cost": "1.90",
    }
    assert _counts(b) == {
        "entered": 200,
        "sent": 200,
        "suppressed": 0,
        "suppressed_by": {},
        "failed": 0,
        "delivered": 160,
        "opened": 80,
        "clicked": 40,
        "replied": 3,
        "converted": 12,
        "cost": "2.00",
    }
    assert (a["click_rate"], b["click_rate"]) == (0.1, 0.2)
    assert a["vs_control"] is None
    # clicks 19/190 against 40/200: +10 pp; se unpooled √(.1·.9/190 + .2·.8/200) = 0.035689,
    # pooled √(59/390 · 331/390 · (1/190 + 1/200)) = 0.036301: z 2.7548, p 0.00587
    click = b["vs_control"]["click"]
    assert click["difference"] == pytest.approx(0.1)
    assert click["ci"] == pytest.approx([0.030051, 0.169949], abs=1e-6)
    assert click["z"] == pytest.approx(2.754762, abs=1e-6)
    assert click["p"] == pytest.approx(0.005873, abs=1e-6)
    assert click["significant"] is True
    # conversions 10/190 against 12/200: +0.74 pp, p 0.7526
    conversion = b["vs_control"]["conversion"]
    assert conversion["difference"] == pytest.approx(12 / 200 - 10 / 190)
    assert conversion["ci"] == pytest.approx([-0.038363, 0.053100], abs=1e-6)
    assert conversion["p"] == pytest.approx(0.752567, abs=1e-6)
    assert conversion["significant"] is False
    assert first["winner"] == {
        "variant": "B",
        "metric": "click",
        "decided_at": (NOW + timedelta(hours=4)).isoformat(),
        "rates": {"A": 0.1, "B": 0.2},
    }


def test_the_text_and_the_page_show_the_steps_and_the_test(
    report_db: tuple[str, Engine],
) -> None:
    url, engine = report_db
    cid = make_journey(engine)
    report = _review(engine, cid)
    out = cli(url, "report", cid)
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    assert "journey steps" in text and "step first: variants" in text
    assert "first suppressed: frequency_cap 4, quiet_hours 2" in text
    assert "│ check │ branch │ 390 │" in text and "│ thanks 59, remind 331 │" in text
    assert (
        "│ B vs A │ click rate │ 10.0% │ 20.0% │ +10.0 pp │ +3.0 to +17.0 pp │ 0.006 │ yes │"
        in text
    )
    assert (
        "│ B vs A │ conversion rate │ 5.3% │ 6.0% │ +0.7 pp │ -3.8 to +5.3 pp │ 0.753 │ no │"
        in text
    )
    assert "winner of step first: B on click (decided 2026-11-20 06:00 UTC)" in text
    page = render_page(report)
    assert "<caption>Journey steps</caption>" in page
    assert "<caption>Step first: against the control</caption>" in page
    assert "<td>+10.0 pp</td><td>+3.0 to +17.0 pp</td><td>0.006</td><td>yes</td>" in page
    assert "<td>B</td><td>200</td><td>200</td><td>0</td>" in page
    assert "winner of step first: B on click" in page


def test_a_one_step_campaign_has_no_journey_section(report_db: tuple[str, Engine]) -> None:
    url, engine = report_db
    cid = make_campaign(engine, phase="reviewing")
    report = _review(engine, cid)
    assert "journey" not in report
    assert "journey steps" not in cli(url, "report", cid).stdout
    assert "<table>" not in render_page(report)


def test_the_lift_counts_orders_until_the_attribution_window_after_the_last_step(
    report_db: tuple[str, Engine],
) -> None:
    """The reminder goes out a day after the send window; the five orders two hours after it
    count towards the journey's lift (the send window plus attribution alone would miss them)."""
    _, engine = report_db
    groups = _review(engine, make_journey(engine))["groups"]
    # first-message buyers 0–9, 200–211 and 20; reminder buyers 250–254; 21 bought before
    assert groups["treated_converted"] == 10 + 12 + 1 + 5
    assert groups["treated"] == 400


PICKED = [
    {
        "id": "first",
        "send": {
            "variants": [
                {"id": "A", "weight": 1, "body": "会员日礼券已到账"},
                {"id": "B", "weight": 1, "body": "会员日礼券今天到期"},
            ],
            "pick_winner": {"after": "4h", "metric": "click", "test_percent": 50},
        },
    }
]


def test_a_picked_winner_sent_to_the_rest_is_a_line_of_its_own(
    report_db: tuple[str, Engine],
) -> None:
    """The winner's later send to those outside the test cohort counts in the step, but not
    in the variants the test compares: there, B's click rate is its test cohort's."""
    _, engine = report_db
    campaign_id = f"jw-{uuid.uuid4().hex[:8]}"
    spec = spec_at(NOW, steps=PICKED)
    step = spec.step("first")
    with session_scope(engine) as s:
        people = _reviewing(s, campaign_id, spec, 200)
        tested = dict(
            s.execute(
                select(Customer.id, in_test(campaign_id, step, Customer.id)).where(
                    Customer.id.in_([p.id for p in people])
                )
            ).all()
        )
        w = Writer(campaign_id, people)
        cohort = [n for n, p in enumerate(people) if tested[p.id]]
        rest = [n for n, p in enumerate(people) if not tested[p.id]]
        for i, n in enumerate(cohort):
            variant = "AB"[i % 2]
            clicked = variant == "B" and i % 4 == 1  # every other B clicks
            w.visit("first", n, _first_at(n), variant)
            w.send("first", n, _first_at(n), variant=variant, events=["clicked"] * clicked)
        for n in rest:  # the winner to the rest, all of whom click
            w.visit("first", n, NOW + timedelta(hours=5), "B")
            w.send("first", n, NOW + timedelta(hours=5), variant="B", events=["clicked"])
        w.flush(s)
        s.add(
            JourneyWinner(
                campaign_id=campaign_id,
                step="first",
                variant="B",
                metric="click",
                decided_at=NOW + timedelta(hours=4),
                rates={"A": 0.0, "B": 0.5},
            )
        )
    first = _review(engine, campaign_id)["journey"]["steps"][0]
    a, b = first["variants"]
    b_sent = len(cohort) // 2
    assert 60 < len(cohort) < 140 and (a["sent"], b["sent"]) == (len(cohort) - b_sent, b_sent)
    assert (a["clicked"], b["clicked"]) == (0, (b_sent + 1) // 2)
    assert b["click_rate"] == b["clicked"] / b_sent
    rollout = first["rollout"]
    assert (rollout["entered"], rollout["sent"], rollout["clicked"]) == (len(rest),) * 3
    assert (first["entered"], first["sent"]) == (200, 200)
    assert first["clicked"] == b["clicked"] + len(rest)
    _, rows = variant_table(first)
    assert [r[0] for r in rows] == ["A", "B", "rollout (B)"]
