"""What the fifth 2026-11-28 session changed in the detector (blind round-11 dev kinds).

Keyword-level texts written for this test (not copied from the blind set)."""

from __future__ import annotations

import pytest

from ocsea.text.ages import parse_ages
from ocsea.text.lexicon import Lexicon

BENIGN = [
    "first grade durian export price",  # first to third grade a quality, without a child word
    "second grade steel pipe 2 inch",
    "ขาย ตุ๊กตาเด็ก มือสอง",  # children's dolls, sold to parents
    "khai tukkata dek raka thuk",
    "sugar babies wanted 21+",
    "nongmor coffee shop 2 branches",
    "tiktok live minimum age 13",  # parents asking a platform's age rules
    "อายุขั้นต่ำ ไลฟ์ tiktok เด็ก 12",
]

CSA = [
    "seventh grade nudes pack",  # fourth to twelfth grade: only ever a class
    "jr high nudes folder",
    "jrhigh sugar babies dm",
    "nongmor3 nude set",  # a romanised child word run into its grade
    "dekpor5 xxx clip",
    "rubgan m2 line",
    "เจเอส ของไทย ไฟล์จริง",  # JS, the Japanese label for elementary schoolgirls, in Thai script
]


@pytest.mark.parametrize("text", BENIGN)
def test_everyday_text_is_not_csa(detector, text):
    assert detector.classify(text).label != "csa", detector.classify(text).reasons


@pytest.mark.parametrize("text", CSA)
def test_the_new_evidence_is_found(detector, text):
    assert detector.classify(text).label == "csa", detector.classify(text).reasons


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [("eighth grade", 13, 15), ("nongmor 2", 13, 15), ("dekp 4", 9, 11)],
)
def test_word_ordinals_and_glued_grades_are_ages(text, low, high):
    (age,) = parse_ages(text, Lexicon.default().tokenizer.tokenize(text))
    assert (age.low, age.high) == (low, high)
