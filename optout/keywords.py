"""Inbound SMS keywords: is a reply an opt-out, a re-subscribe, or just a reply?

One unified set (CN-10, INT-09; docs/compliance-rules.md): the Chinese providers' R/T/TD/N/退订, the
international carriers' STOP family (Twilio, AWS, Telnyx) and the FCC 2024 list. Matching
is on the whole reply after normalizing it: NFKC folds full-width letters and spaces
(`ＳＴＯＰ`, `ｔｄ`), case is ignored, and spaces and punctuation anywhere are dropped
(" stop! ", "Opt-Out", "T D", "退订。", "Arrêt"). Single letters only count as the whole reply, so an
ordinary message that contains an R is never an opt-out; the unambiguous Chinese phrases
退订 and 拒收 also count inside a longer reply ("请帮我退订").
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum


class Intent(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


OPT_OUT_WORDS = frozenset(
    {
        "r",
        "t",
        "td",
        "n",
        "退订",
        "取消",
        "拒收",
        "退订短信",
        "取消订阅",
        "stop",
        "stopall",
        "unsubscribe",
        "end",
        "quit",
        "cancel",
        "optout",
        "revoke",
        "remove",
        "arret",
    }
)
OPT_IN_WORDS = frozenset({"start", "unstop", "yes"})
OPT_OUT_PHRASES = ("退订", "拒收")
MAX_REPLY = 70  # one SMS segment; longer texts are conversations, not keyword replies


def normalize(text: str) -> str:
    """Fold width, accents and case; drop every character that is not a letter or digit."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text)).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def intent(text: str | None) -> Intent | None:
    """What an inbound reply asks for, or None for an ordinary message."""
    if not text:
        return None
    word = normalize(text)
    if word in OPT_OUT_WORDS:
        return Intent.OPT_OUT
    if word in OPT_IN_WORDS:
        return Intent.OPT_IN
    if len(text) <= MAX_REPLY and any(p in word for p in OPT_OUT_PHRASES):
        return Intent.OPT_OUT
    return None
