"""Every opt-out and opt-in keyword, in any case, with spaces and punctuation, full width."""

from __future__ import annotations

import pytest

from optout.keywords import OPT_IN_WORDS, OPT_OUT_WORDS, Intent, intent

OPT_OUT = [
    "R",
    "T",
    "TD",
    "N",
    "退订",
    "取消",
    "拒收",
    "STOP",
    "UNSUBSCRIBE",
    "END",
    "QUIT",
    "CANCEL",
    "OPTOUT",
    "STOPALL",
    "REVOKE",
    "REMOVE",
    "ARRET",
]
OPT_IN = ["START", "UNSTOP", "YES"]


def variants(word: str) -> list[str]:
    full_width = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word)
    return [
        word,
        word.lower(),
        word.capitalize(),
        f"  {word}  ",
        f"{word}!",
        f"\n{word}。",
        f"\u3000{word}\u3000",
        full_width,
        full_width.lower(),
        f"「{word}」",
    ]


@pytest.mark.parametrize("word", OPT_OUT)
def test_opt_out_keywords(word: str) -> None:
    for text in variants(word):
        assert intent(text) is Intent.OPT_OUT, repr(text)


@pytest.mark.parametrize("word", OPT_IN)
def test_opt_in_keywords(word: str) -> None:
    for text in variants(word):
        assert intent(text) is Intent.OPT_IN, repr(text)


def test_the_tables_cover_the_published_lists() -> None:
    assert {w.lower() for w in OPT_OUT} <= OPT_OUT_WORDS
    assert {w.lower() for w in OPT_IN} == OPT_IN_WORDS


@pytest.mark.parametrize(
    "text",
    ["Opt-Out", "opt out", "T D", "Arrêt", "Stop all", "退订。", "请帮我退订", "拒收！", "ＴＤ"],
)
def test_spelling_variants_opt_out(text: str) -> None:
    assert intent(text) is Intent.OPT_OUT


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "Hello R",
        "谢谢",
        "Stop sending me coupons for shoes please, but keep the order updates",
        "Rt",
        "TDX",
        "yes please tell me more",
        "我要取消订单123",
    ],
)
def test_ordinary_replies_are_not_keywords(text: str | None) -> None:
    assert intent(text) is None
