"""A journey spec that is wrong is refused at `start` with one message naming the problem:
exit code 2, no traceback, and nothing written (no database, no key file)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.test_spec_errors import ROOT, run_start

JOURNEY: dict[str, Any] = yaml.safe_load(
    (ROOT / "examples" / "journey-campaign.yaml").read_text(encoding="utf-8")
)
Edit = Callable[[dict[str, Any]], None]


def step(doc: dict[str, Any], step_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in doc["steps"] if s["id"] == step_id)
    return found


def _parent(doc: dict[str, Any], path: str) -> tuple[Any, Any]:
    """The container and key `step_id.key.0.key` points at (numbers index lists)."""
    step_id, *keys = path.split(".")
    node: Any = step(doc, step_id)
    parts: list[Any] = [int(k) if k.isdigit() else k for k in keys]
    for key in parts[:-1]:
        node = node[key]
    return node, parts[-1]


def _set(path: str, value: object) -> Edit:
    def edit(doc: dict[str, Any]) -> None:
        node, key = _parent(doc, path)
        node[key] = value

    return edit


def _drop(path: str) -> Edit:
    def edit(doc: dict[str, Any]) -> None:
        node, key = _parent(doc, path)
        del node[key]

    return edit


def _no_steps(doc: dict[str, Any]) -> None:
    del doc["steps"]


CASES: list[tuple[str, Edit, str]] = [
    (
        "unknown step",
        _set("two_days.next", "click"),
        "step 'two_days' leads to unknown step 'click'",
    ),
    (
        "duplicate id",
        _set("thanks_email.id", "reminder_email"),
        "step id 'reminder_email' is used twice",
    ),
    (
        "cycle without a wait",
        _set("thanks_email.next", "clicked"),
        "- steps: Value error, steps clicked → thanks_email → clicked loop without a wait",
    ),
    (
        "unreachable step",
        _set("clicked.branch.else", "thanks_email"),
        "steps not reachable from 'coupon_sms': reminder_email",
    ),
    ("branch without else", _drop("clicked.branch.else"), "steps[2].branch.else: Field required"),
    (
        "branch with next",
        _set("clicked.next", "thanks_email"),
        "step 'clicked': a branch has no next; its cases and else name it",
    ),
    (
        "engaged with a wait step",
        _set("clicked.branch.when.0.if.engaged.step", "two_days"),
        "step 'clicked' asks about engagement with 'two_days', which is a wait step, "
        "not a send step",
    ),
    (
        "engaged with an unknown step",
        _set("clicked.branch.when.0.if.engaged.step", "nowhere"),
        "asks about engagement with 'nowhere', which is an unknown step, not a send step",
    ),
    (
        "channel the campaign lacks",
        _set("thanks_email.send.channels", ["app_push"]),
        "step 'thanks_email' sends on 'app_push', which is not among the campaign's channels "
        "(email, sms)",
    ),
    (
        "pick_winner without variants",
        _drop("coupon_sms.send.variants"),
        "steps[0].send: Value error, pick_winner needs variants",
    ),
    (
        "repeated variant ids",
        _set("coupon_sms.send.variants.1.id", "A"),
        "steps[0].send: Value error, variant id(s) used more than once: A",
    ),
    (
        "unquoted time of day",
        _set("two_days.wait", 600),  # what YAML makes of `wait: 10:00`
        "a quoted time of day ('10:00'",
    ),
    (
        "wait that is not a duration",
        _set("two_days.wait", "soon"),
        "'soon' is not a duration",
    ),
    ("exit_when without steps", _no_steps, "- exit_when: Value error, exit_when needs steps"),
]


@pytest.mark.parametrize(("edit", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_wrong_journey_is_one_message_and_changes_nothing(
    tmp_path: Path, edit: Edit, expected: str
) -> None:
    doc = copy.deepcopy(JOURNEY)
    edit(doc)
    proc = run_start(tmp_path, yaml.safe_dump(doc, allow_unicode=True))
    assert proc.returncode == 2, proc.stderr
    assert "the campaign spec has 1 problem(s)" in proc.stderr
    assert expected in " ".join(proc.stderr.split()), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stdout == ""
    assert not (tmp_path / "x.db").exists() and not (tmp_path / "k.json").exists()


def test_the_example_journey_passes_validation(tmp_path: Path) -> None:
    proc = run_start(tmp_path, yaml.safe_dump(JOURNEY, allow_unicode=True))
    assert proc.returncode == 1  # past the spec and content checks, stopped at Temporal
    assert "cannot reach Temporal" in proc.stderr
