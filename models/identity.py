"""Who a person is, for every comparison: one spelling per person.

Names arrive typed (`--as "李娜 "`, full-width letters, other cases); compared raw, one person
could pass as two approvers. NFKC folds compatibility forms, then trimming and case folding.
"""

from __future__ import annotations

import unicodedata

MAX_LENGTH = 100


def identity(name: str) -> str:
    """The canonical form of a person's name; ValueError if empty or too long."""
    person = unicodedata.normalize("NFKC", name).strip().casefold()
    if not person or len(person) > MAX_LENGTH or not person.isprintable():
        shown = name if len(name) <= 40 else name[:40] + "…"
        raise ValueError(
            f"person: {shown!r} is not a valid name (1 to {MAX_LENGTH} printable characters)"
        )
    return person
