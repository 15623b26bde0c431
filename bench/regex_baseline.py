"""A plain regex keyword baseline in the style of public regex CSAM prompt filters.

Fair reimplementation of the approach, not of any one project: case-insensitive keyword
alternations with English word boundaries, a child-term × sexual-term co-occurrence pattern, an
age pattern, published codewords, and the same idea for Thai as substring lists (Thai has no
spaces, so word boundaries do not apply). No normalisation beyond lower-casing. Used only by the
benchmark, as the reference our detector must beat.
"""

from __future__ import annotations

import re

_CODES = r"pthc|ptsc|hussyfan|kingpass|r@ygold|raygold|babyshivid|childlover|qqaazz|mafiasex|kidzilla|childporn|pedo|paedo|lolicon|shotacon|jailbait|loli"
_CHILD_EN = r"child|children|kid|kids|kiddie|preteen|pre-teen|underage|minor|little girl|little boy|toddler|infant|schoolgirl|schoolkid|young girl|young boy"
_SEX_EN = r"porn|porno|xxx|sex|nude|nudes|naked|nsfw|hentai|erotic|fuck|pussy|cock|dick|boobs|tits|onlyfans|jav"
_AGE_EN = r"(?:[1-9]|1[0-7])\s?(?:yo|y/o|yrs?|years? old)"
_CHILD_TH = r"เด็ก|นักเรียน|ประถม|มัธยม|อนุบาล|ด\.ญ\.|ด\.ช\.|ทารก|ผู้เยาว์|โลลิ"
_SEX_TH = r"โป๊|เย็ด|เปลือย|แก้ผ้า|ลามก|อนาจาร|เสียว|หี|ควย|คลิปหลุด|xxx|นู้ด"

CSA_PATTERNS = [
    re.compile(rf"\b(?:{_CODES})\b", re.I),
    re.compile(
        rf"\b(?:{_CHILD_EN})\b.*\b(?:{_SEX_EN})\b|\b(?:{_SEX_EN})\b.*\b(?:{_CHILD_EN})\b", re.I
    ),
    re.compile(rf"\b{_AGE_EN}\b.*\b(?:{_SEX_EN})\b|\b(?:{_SEX_EN})\b.*\b{_AGE_EN}\b", re.I),
    re.compile(
        rf"(?:{_CHILD_TH}).*(?:{_SEX_TH}|{_SEX_EN})|(?:{_SEX_TH}|{_SEX_EN}).*(?:{_CHILD_TH})", re.I
    ),
]
ADULT_PATTERNS = [
    re.compile(rf"\b(?:{_SEX_EN})\b", re.I),
    re.compile(rf"(?:{_SEX_TH})", re.I),
]


class RegexBaseline:
    def classify(self, text: str) -> tuple[str, float]:
        for rx in CSA_PATTERNS:
            if rx.search(text):
                return "csa", 1.0
        for rx in ADULT_PATTERNS:
            if rx.search(text):
                return "adult", 0.5
        return "benign", 0.0
