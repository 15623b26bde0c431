"""What the sixth 2026-11-28 session changed in the detector (blind round-12 dev kinds).

Keyword-level texts written for this test (not copied from the blind set)."""

from __future__ import annotations

import pytest

from ocsea.text.ages import parse_ages
from ocsea.text.lexicon import Lexicon
from ocsea.text.normalize import normalize

BENIGN = [
    "ส่งของไม่เกิน 15 วัน",  # "not over 15" days, minutes: a count
    "เดินไม่เกิน 10 นาที ถึงโรงเรียน",
    "ผู้สูงวัย 60 ปี ออกกำลังกาย",  # วัย with an adult's age
    "วัย 14 ปี ควรนอนกี่ชั่วโมง",  # a child's age with nothing else
    "kot mai khumkhrong dek thai lamok",  # a law (กฎหมาย) that names the crime
    "LIVE 9 year old speedruns zelda",  # a child's game stream
    "pratom 5 math worksheet pdf",
    "wow!!! amazing kids show",
]

CSA = [
    "น้องวัย 13 คลิปโป๊",  # วัย (age) states the child's age as อายุ does
    "หาน้องไม่เกิน 14 รับงาน",  # ไม่เกิน (not over): an age bound
    "จัยเบท ไทย คลิป",  # jailbait in Thai script
    "โชว์กล้อง เด็ก ม.2 โอนก่อน",
    "roop poh dek 12 khuap",  # รูปโป๊ with โป๊ as "poh"
    "xxx nong pratom clip",
    "nudes!! 13yo",  # an exclamation mark is not leet for "i"
]


@pytest.mark.parametrize("text", BENIGN)
def test_everyday_text_is_not_csa(detector, text):
    assert detector.classify(text).label != "csa", detector.classify(text).reasons


@pytest.mark.parametrize("text", CSA)
def test_the_new_evidence_is_found(detector, text):
    assert detector.classify(text).label == "csa", detector.classify(text).reasons


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [("น้องวัย 14", 14, 14), ("ไม่เกิน 15", 11, 15), ("mai koen 13", 9, 13)],
)
def test_age_words(text, low, high):
    (age,) = parse_ages(text, Lexicon.default().tokenizer.tokenize(text))
    assert (age.low, age.high) == (low, high)


@pytest.mark.parametrize(
    ("text", "normalised"),
    [("hlud!! m3", "hlud m3"), ("l0l! pack", "loli pack"), ("n!pple", "nipple")],
)
def test_trailing_exclamation_marks_are_punctuation_after_a_word(text, normalised):
    assert normalize(text) == normalised
