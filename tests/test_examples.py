"""Every campaign spec under examples/ loads and passes the content rules, as `start` needs;
the journey the docs and README show is the example's, and valid."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from cli.spec_file import load_spec_file
from compliance.check import check_content
from models.spec import CampaignSpec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def test_the_journey_example_is_among_them() -> None:
    assert {p.name for p in EXAMPLES} >= {"demo-campaign.yaml", "journey-campaign.yaml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_loads_and_passes_the_content_rules(path: Path) -> None:
    spec = load_spec_file(path, datetime.now(UTC))
    assert check_content(spec) == []


def test_the_journey_documented_is_the_example() -> None:
    doc = (ROOT / "docs" / "journeys.md").read_text("utf-8")
    block = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    example = yaml.safe_load((ROOT / "examples" / "journey-campaign.yaml").read_text("utf-8"))
    documented = yaml.safe_load(block)
    assert (documented["steps"], documented["exit_when"]) == (
        example["steps"],
        example["exit_when"],
    )


def test_the_readme_journey_is_valid_with_the_examples_channels() -> None:
    readme = (ROOT / "README.md").read_text("utf-8").split("### Journeys", 1)[1]
    steps = yaml.safe_load(readme.split("```yaml\n", 1)[1].split("```", 1)[0])
    doc = yaml.safe_load((ROOT / "examples" / "journey-campaign.yaml").read_text("utf-8"))
    window = {"start": "2030-01-01T09:00:00+08:00", "end": "2030-01-01T10:00:00+08:00"}
    spec = CampaignSpec.model_validate(doc | steps | {"send_window": window})
    assert [s.id for s in spec.steps or []] == [s["id"] for s in doc["steps"]]


def test_the_readme_schedule_is_valid_with_the_weekly_example() -> None:
    readme = (ROOT / "README.md").read_text("utf-8").split("### Recurring campaigns", 1)[1]
    shown = yaml.safe_load(readme.split("```yaml\n", 1)[1].split("```", 1)[0])
    doc = yaml.safe_load((ROOT / "examples" / "weekly-campaign.yaml").read_text("utf-8"))
    window = {"start": "2030-01-01T09:00:00+08:00", "end": "2030-01-01T10:00:00+08:00"}
    spec = CampaignSpec.model_validate(doc | shown | {"send_window": window})
    assert spec.schedule is not None and spec.schedule.cron == doc["schedule"]["cron"]
