"""Helpers content rules share: which texts of a channel to scan, matching terms, evidence."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from models.spec import ChannelPlan

EVIDENCE_WIDTH = 12


def texts(plan: ChannelPlan) -> list[tuple[str, str]]:
    """(part, text) pairs of a channel's message template: subject (if any) and body."""
    parts = [("subject", plan.subject)] if plan.subject else []
    return [*parts, ("body", plan.body)]


@lru_cache(maxsize=64)
def term_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation of literal terms, longest first so evidence names the whole term."""
    ordered = sorted({t for t in terms if t}, key=len, reverse=True)
    return re.compile("|".join(re.escape(t) for t in ordered) or r"(?!)", re.IGNORECASE)


def find_terms(text: str, terms: Iterable[str]) -> list[re.Match[str]]:
    return list(term_pattern(tuple(terms)).finditer(text))


def snippet(text: str, start: int, end: int, width: int = EVIDENCE_WIDTH) -> str:
    """The match in 「」 with a little context either side, on one line."""
    before = text[max(0, start - width) : start]
    after = text[end : end + width]
    lead = "…" if start > width else ""
    tail = "…" if end + width < len(text) else ""
    shown = f"{lead}{before}「{text[start:end]}」{after}{tail}"
    return " ".join(shown.split())


def mask_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """Blank out spans (keeping offsets) so later scans skip text already judged."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)
