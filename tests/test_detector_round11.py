"""What the fifth 2026-11-28 session changed in the detector (blind round-11 dev kinds), and the
texts an independent review of its first version found it getting wrong.

Keyword-level texts written for this test (not copied from the blind set)."""

from __future__ import annotations

import pytest

from ocsea.text.ages import parse_ages
from ocsea.text.lexicon import Lexicon

BENIGN = [
    "first grade durian export price",  # first to third grade a quality, without a child word
    "second grade steel pipe 2 inch",
    "fourth gradient descent",
    # the review: a junior doctor (น้องหมอ), a nickname, a card and a digger, a playoff, a candy
    "nongmor 1 sexy",
    "nongp 3 hot",
    "รถเจซีบี ขุดดิน คลิป เด็ก",
    "รอบเพลย์ออฟเด็ก ม.3",
    "sugar babies candy for kids",
    "rubgan son piset m1",  # รับงานสอนพิเศษ: tutoring
    "6th grade camp hot springs",  # an onsen
    "lolita novel pdf teen",
]

CSA = [
    "seventh grade nudes pack",  # fourth to twelfth grade: only ever a class
    "jr high nudes folder",
    "dekm 3 porn clip",  # เด็กม romanised, run into its grade
    "dekp5 xxx clip",
    "rubgan m2 line",
    # the review: a safe or benign-sense word must not hide these
    "pthc minimum age",
    "ตุ๊กตาเด็ก เซ็กส์",
    "clip dek m2 xxx tukkata dek",
    "hot dog 12yo nude",  # a benign sense covers its own words, not a sexual word beside it
    "nude lipstick 12yo porn",
    "hot springs 13yo naked",
]


@pytest.mark.parametrize("text", BENIGN)
def test_everyday_text_is_not_csa(detector, text):
    assert detector.classify(text).label != "csa", detector.classify(text).reasons


@pytest.mark.parametrize("text", CSA)
def test_the_new_evidence_is_found(detector, text):
    assert detector.classify(text).label == "csa", detector.classify(text).reasons


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [("eighth grade", 13, 15), ("dekm 2", 13, 15), ("dekp 4", 9, 11)],
)
def test_word_ordinals_and_glued_grades_are_ages(text, low, high):
    (age,) = parse_ages(text, Lexicon.default().tokenizer.tokenize(text))
    assert (age.low, age.high) == (low, high)
