"""A spelling skeleton for Thai written in Latin letters.

Romanised Thai has no standard spelling: นักเรียน is "nakrian", "nukrian", "nakrean", "nuk rien";
เสียว is "siao", "siew", "sieow"; หลุด is "lud", "lut", "lood", "hlud". The lexicon lists the
spellings its sources gave; this skeleton folds the rest onto them: vowels written several ways
become one, aspirated and plain stops one, final b/d/g the p/t/k Thai pronounces, doubled letters
one, spaces none. Two spellings with the same skeleton are taken for the same word. Only the
lexicon's romanised-Thai terms are indexed by it (``Lexicon``), and a token that is its own
skeleton ("yet", "lat") never matches by it, so an English word meets it only where a respelling
lands on a romanised Thai term (measured on the real-world held-out text,
``tests/test_heldout_quality.py``).
"""

from __future__ import annotations

import re
from functools import lru_cache

# Skeletons shorter than this match only exactly: "po", "mo" and "ai" are too many things.
MIN_SKELETON = 3

_VOWEL = "aeiou"
# Longest first; each pair maps a way of writing a Thai vowel onto one.
_VOWEL_GROUPS = (
    ("ieow", "iao"), ("iaow", "iao"), ("ieaw", "iao"), ("iew", "iao"), ("iaw", "iao"),
    ("eaw", "iao"), ("eow", "iao"),
    ("ie", "ia"), ("ea", "ia"),
    ("eu", "ue"),
    ("ee", "i"), ("ii", "i"),
    ("oo", "u"), ("ou", "u"), ("uu", "u"),
    ("aa", "a"), ("ay", "ai"), ("aw", "ao"), ("oh", "o"),
)  # fmt: skip
_VOWEL_RX = re.compile("|".join(a for a, _ in _VOWEL_GROUPS))
_VOWEL_MAP = dict(_VOWEL_GROUPS)
# "er" before a consonant or at the end is the vowel เออ ("ngern", "perd"); "or" there is ออ
# ("mor", "por").
_ER_RX = re.compile(r"er(?![aeiou])")
_OR_RX = re.compile(r"or(?![aeiou])")
# Aspirated stops written with an h, and an h that marks a tone ("mhor", "hlud", "lhud").
_ASPIRATE_RX = re.compile(r"(?<=[kpt])h|h(?=[lmnwy])|(?<=[lmnwy])h")
# "g" not after "n" is ก ("gai", "glum"); "v" is ว ("vdo").
_G_RX = re.compile(r"(?<!n)g")
# A short a is often written "u" ("nuk", "rub": นัก, รับ), but so is the u of ลูก ("luk", a child)
# and หลุด ("lud"): folding u onto a made "luk" read as แลก (swap), so u stays u.
# Final b and d are heard as p and t (a final g is already k).
_FINAL_RX = re.compile(r"[bd](?![aeiou])")
_FINAL = {"b": "p", "d": "t"}
_DOUBLE_RX = re.compile(r"([a-z])\1+")


def single_letters(text: str) -> str:
    """Doubled Latin letters made one ("poorrnn" -> "porn"): a fold of the skeleton, and the
    lexicon's lookup of words disguised by doubling."""
    return _DOUBLE_RX.sub(r"\1", text)


@lru_cache(maxsize=65536)
def rom_skeleton(text: str) -> str:
    """The skeleton of a romanised Thai word or phrase: lower-case ASCII letters and digits.
    The folds go round until nothing changes (one can make work for another: "av" -> "aw" ->
    "ao"), so a skeleton is its own skeleton."""
    s = text.replace(" ", "")
    for _ in range(4):
        nxt = _fold(s)
        if nxt == s:
            break
        s = nxt
    return s


def _fold(s: str) -> str:
    s = _ER_RX.sub("oe", s)
    s = _OR_RX.sub("o", s)
    s = _VOWEL_RX.sub(lambda m: _VOWEL_MAP[m.group(0)], s)
    s = _ASPIRATE_RX.sub("", s)
    s = _G_RX.sub("k", s).replace("v", "w")
    s = _FINAL_RX.sub(lambda m: _FINAL[m.group(0)], s)
    s = single_letters(s)
    return s.removesuffix("h") if len(s) > 1 else s
