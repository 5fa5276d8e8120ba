"""Reading Prometheus exposition text in tests."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, str], float]:
    """Every sample as (name, its labels' values joined by commas) → value."""
    return {
        (s.name, ",".join(s.labels.values())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
