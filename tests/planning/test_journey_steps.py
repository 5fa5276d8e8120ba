"""The plan shows each journey send step's upper bound: customers reaching it from the planned
first sends (random splits applied, other branches both ways, loops once) and its cost on the
step's cheapest channel; stored with the plan report and printed for the approver."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from audience.snapshot import take_snapshot
from models.spec import CampaignSpec
from planning.journey_reach import reach_at_most
from planning.plan import make_plan
from planning.report import format_plan_report, load_plan_report
from tests.planning.test_plan import SMS, WECHAT, _reach
from tests.profiles.seed import D, campaign, make_spec, order

EMAIL = {"channel": "email", "template": "t_mail", "subject": "s", "body": "b"}


def _send(step_id: str, nxt: str | None = None, **send: Any) -> dict[str, Any]:
    return {"id": step_id, "send": send, **({"next": nxt} if nxt else {})}


def _branch(step_id: str, cases: list[tuple[dict[str, Any], str]], other: str) -> dict[str, Any]:
    when = [{"if": cond, "then": then} for cond, then in cases]
    return {"id": step_id, "branch": {"when": when, "else": other}}


CLICKED = {"engaged": {"step": "first", "did": "clicked"}}


def _journey(steps: list[dict[str, Any]]) -> CampaignSpec:
    return make_spec(channels=[SMS, WECHAT], steps=steps)


def test_random_splits_narrow_other_conditions_do_not_and_loops_count_once() -> None:
    spec = _journey(
        [
            _send("first", "split"),
            _branch("split", [({"random": 30}, "a"), (CLICKED, "b")], "c"),
            _send("a", "pause"),
            {"id": "pause", "wait": "1d", "next": "first"},  # back to the start: counted once
            _send("b", "join"),
            _send("c", "join"),
            _send("join", "thirds"),
            _branch("thirds", [({"random": 50}, "x"), ({"random": 50}, "y")], "z"),
            _send("x"),
            _send("y"),
            _send("z"),
        ]
    )
    assert spec.steps is not None
    assert reach_at_most(spec.steps, 1000) == {
        "first": 1000,
        "split": 1000,
        "a": 300,  # 30 % of those reaching the split
        "pause": 300,
        "b": 700,  # clicked or not: all who are left may go either way
        "c": 700,
        "join": 1000,  # 700 + 700, but never more than entered
        "thirds": 1000,
        "x": 500,
        "y": 250,  # half of the half the first case left
        "z": 250,
    }
    assert reach_at_most(spec.steps, 7)["y"] == 2  # rounded up: still an upper bound


def test_the_plan_report_holds_and_prints_each_send_steps_bound(session: Session) -> None:
    for cid in (1, 2, 3):
        _reach(session, cid, sms=True, wechat=cid != 3)
        order(session, cid, 3, "50")
    steps = [
        _send("first", "later"),
        {"id": "later", "wait": "2d", "next": "split"},
        _branch("split", [({"random": 25}, "by_sms")], "any"),
        _send("by_sms", channels=["sms"]),
        _send("any"),
    ]
    spec = make_spec(channels=[SMS, WECHAT], holdout_percent=0, steps=steps)
    campaign(session, "j1", spec)
    take_snapshot(session, "j1", spec, D)
    result = make_plan(session, "j1", spec, D)
    assert result.planned == 3
    report = load_plan_report(session, "j1")
    assert report is not None
    assert report["steps"] == [
        {
            "step": "first",
            "channel": "wechat_oa",  # the cheapest of the campaign's channels
            "at_most": 3,
            "unit_cost": "0",
            "cost_at_most": "0.0000",
        },
        {
            "step": "by_sms",
            "channel": "sms",
            "at_most": 1,  # a quarter of 3, rounded up
            "unit_cost": "0.045",
            "cost_at_most": "0.0450",
        },
        {
            "step": "any",
            "channel": "wechat_oa",
            "at_most": 3,
            "unit_cost": "0",
            "cost_at_most": "0.0000",
        },
    ]
    text = format_plan_report(report)
    assert "Journey send steps, at most" in text
    [by_sms] = [line for line in text.splitlines() if line.startswith("by_sms")]
    assert by_sms.split() == ["by_sms", "sms", "1", "0.0450", "0.0450", "CNY"]


def test_a_campaign_without_steps_has_no_step_lines(session: Session) -> None:
    _reach(session, 1, sms=True, wechat=False)
    order(session, 1, 3, "50")
    spec = make_spec(channels=[SMS, EMAIL], holdout_percent=0)
    campaign(session, "n1", spec)
    take_snapshot(session, "n1", spec, D)
    make_plan(session, "n1", spec, D)
    report = load_plan_report(session, "n1")
    assert report is not None and report["steps"] == []
    assert "Journey" not in format_plan_report(report)


def test_a_first_step_on_one_channel_plans_on_it_and_prices_later_steps_on_theirs(
    session: Session,
) -> None:
    """The first sends go only on the first step's channel; a later step's channel, absent from
    the first step, is still priced (planning used to fail on it)."""
    for cid in (1, 2, 3):
        _reach(session, cid, sms=True, wechat=True)
        order(session, cid, 3, "50")
    steps = [_send("first", "later", channels=["sms"]), _send("later", channels=["wechat_oa"])]
    spec = make_spec(channels=[SMS, WECHAT], holdout_percent=0, steps=steps)
    campaign(session, "j2", spec)
    take_snapshot(session, "j2", spec, D)
    result = make_plan(session, "j2", spec, D)
    assert result.by_channel == {"sms": 3}  # wechat_oa is cheaper, but not the first step's
    report = load_plan_report(session, "j2")
    assert report is not None
    assert [(s["step"], s["channel"], s["at_most"]) for s in report["steps"]] == [
        ("first", "sms", 3),
        ("later", "wechat_oa", 3),
    ]
