"""How many SMS a text costs: GSM-7 or UCS-2, and the number of segments.

GSM 03.38: the 128 characters of the basic set take one septet each, the characters of the extension
table take two (an escape plus the character). A text with any other character goes out as UCS-2, where
every UTF-16 code unit counts (an emoji outside the BMP takes two).

One segment holds 160 septets or 70 UCS-2 units; in a concatenated message the header leaves 153 septets
or 67 units per part. Parts never split an escape sequence or a surrogate pair, so a part may hold one
less than the maximum.
"""

from typing import Literal

Encoding = Literal["gsm7", "ucs2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"  # \x1b is the escape itself; it never stands alone in a text
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
) - {"\x1b"}
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _units(text: str, encoding: Encoding) -> list[int]:
    """The cost of each character: septets for GSM-7, UTF-16 code units for UCS-2."""
    if encoding == "gsm7":
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _count(units: list[int], single: int, part: int) -> int:
    if not units:
        return 0
    if sum(units) <= single:
        return 1
    parts, used = 1, 0
    for cost in units:
        if used + cost > part:  # an escape sequence or surrogate pair is never split
            parts, used = parts + 1, 0
        used += cost
    return parts


def sms_segments(text: str) -> tuple[Encoding, int]:
    """("gsm7" | "ucs2", number of segments). An empty text is 0 segments."""
    if is_gsm7(text):
        return "gsm7", _count(_units(text, "gsm7"), GSM7_SINGLE, GSM7_PART)
    return "ucs2", _count(_units(text, "ucs2"), UCS2_SINGLE, UCS2_PART)
