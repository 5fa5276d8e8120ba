"""Every campaign spec under examples/ loads and passes the content rules, as `start` needs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.spec_file import load_spec_file
from compliance.check import check_content

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))


def test_the_journey_example_is_among_them() -> None:
    assert {p.name for p in EXAMPLES} >= {"demo-campaign.yaml", "journey-campaign.yaml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_loads_and_passes_the_content_rules(path: Path) -> None:
    spec = load_spec_file(path, datetime.now(UTC))
    assert check_content(spec) == []
