"""A customer's country (ISO 3166 alpha-2), derived at import, so rules that depend on where a
customer lives (the international pack, cross-border transfer) apply per customer.

The phone number decides first: a mainland mobile is CN, an E.164 number its country code
(longest prefix). Without a phone, the address decides when it names a country at its start
or end (中国…, …, Germany). Otherwise the country stays unknown (the compliance configuration's
default jurisdiction then applies).
"""

from __future__ import annotations

# E.164 country codes of the places customers come from (NANP +1 is split by area code).
CALLING_CODES = {
    "86": "CN", "852": "HK", "853": "MO", "886": "TW", "65": "SG", "60": "MY", "66": "TH",
    "81": "JP", "82": "KR", "61": "AU", "64": "NZ", "91": "IN", "7": "RU", "971": "AE",
    "44": "GB", "353": "IE", "33": "FR", "49": "DE", "39": "IT", "34": "ES", "351": "PT",
    "31": "NL", "32": "BE", "352": "LU", "43": "AT", "41": "CH", "45": "DK", "46": "SE",
    "47": "NO", "358": "FI", "354": "IS", "48": "PL", "420": "CZ", "421": "SK", "36": "HU",
    "40": "RO", "359": "BG", "30": "GR", "385": "HR", "386": "SI", "370": "LT", "371": "LV",
    "372": "EE", "356": "MT", "357": "CY", "423": "LI",
}  # fmt: skip
CANADIAN_AREA_CODES = frozenset(
    "204 226 236 249 250 263 289 306 343 354 365 367 368 382 387 403 416 418 428 431 437 438 "
    "450 460 468 474 506 514 519 548 579 581 584 587 604 613 639 647 672 683 705 709 742 753 "
    "778 780 782 807 819 825 867 873 879 902 905".split()
)
# Names an address may end or start with → country.
ADDRESS_NAMES = {
    "中国": "CN", "中华人民共和国": "CN", "china": "CN", "香港": "HK", "hong kong": "HK",
    "澳门": "MO", "macau": "MO", "台湾": "TW", "taiwan": "TW", "新加坡": "SG", "singapore": "SG",
    "日本": "JP", "japan": "JP", "韩国": "KR", "korea": "KR", "澳大利亚": "AU", "australia": "AU",
    "美国": "US", "usa": "US", "united states": "US", "加拿大": "CA", "canada": "CA",
    "英国": "GB", "united kingdom": "GB", "uk": "GB", "法国": "FR", "france": "FR",
    "德国": "DE", "germany": "DE", "deutschland": "DE", "意大利": "IT", "italy": "IT",
    "西班牙": "ES", "spain": "ES", "荷兰": "NL", "netherlands": "NL", "爱尔兰": "IE",
    "ireland": "IE", "瑞士": "CH", "switzerland": "CH",
}  # fmt: skip


def from_phone(phone: str) -> str | None:
    """A normalized phone (11 mainland digits or E.164) → its country."""
    if not phone.startswith("+"):
        return "CN" if len(phone) == 11 else None
    digits = phone[1:]
    if digits.startswith("1") and len(digits) == 11:
        return "CA" if digits[1:4] in CANADIAN_AREA_CODES else "US"
    for size in (3, 2, 1):
        if digits[:size] in CALLING_CODES:
            return CALLING_CODES[digits[:size]]
    return None


def from_address(address: str) -> str | None:
    """The country an address names at its start (中国上海市…) or end (…, Berlin, Germany)."""
    text = address.strip().lower().rstrip(" .")
    for name in sorted(ADDRESS_NAMES, key=len, reverse=True):
        if _at_edge(text, name):
            return ADDRESS_NAMES[name]
    return None


def _at_edge(text: str, name: str) -> bool:
    """`name` opens or closes the text as a word of its own (Ukraine is not UK)."""
    word = name.isascii()
    if text.startswith(name) and not (word and text[len(name) : len(name) + 1].isalpha()):
        return True
    return text.endswith(name) and not (word and text[: -len(name)][-1:].isalpha())


def country_of(phone: str | None, address: str | None) -> str | None:
    """The phone decides, then the address; None when neither tells."""
    return (phone and from_phone(phone)) or (address and from_address(address)) or None
