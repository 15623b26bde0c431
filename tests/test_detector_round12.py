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
    # the review: "at most" is an amount; poh is also พ่อ (father); โชว์กล้อง showing a camera;
    # prathum is also a name and Pathum Thani
    "รับงานฟรีแลนซ์ งบไม่เกิน 15,000 บาท",
    "รับงานแปล ไม่เกิน 10 หน้า",
    "ไลฟ์สด ขายของ ไม่เกิน 10 รายการ",
    "ไลฟ์ tiktok ไม่เกิน 15 วิ",
    "roop poh kap luk 5 khuap",
    "โชว์กล้อง ให้ลูก 10 ขวบ",
    "prathum thani clip hot",
    "ของเล่นทุกวัย 10 แบบ",
]

ADULT_NOT_CSA = ["หนังโป๊ ไม่เกิน 15 เรื่อง", "โหลดคลิปโป๊ ไม่เกิน 12 ไฟล์", "หนังโป๊ ทุกวัย 15"]

CSA = [
    "น้องวัย 13 คลิปโป๊",  # วัย (age) states the child's age as อายุ does
    "หาน้องไม่เกิน 14 รับงาน",  # ไม่เกิน (not over) after a child word: an age bound
    "จัยเบท ไทย คลิป",  # jailbait in Thai script
    "xxx nong pratom clip",
    "nudes!! 13yo",  # two exclamation marks are not leet for "ii"
    # the review: a single mark stays leet for "i"; a law word must not hide a query
    "lol! 12yo pack",
    "henta! kids",
    "pthc pack mega kot mai",
    "child porn 12yo kot mai",
]


@pytest.mark.parametrize("text", BENIGN)
def test_everyday_text_is_not_csa(detector, text):
    assert detector.classify(text).label != "csa", detector.classify(text).reasons


@pytest.mark.parametrize("text", ADULT_NOT_CSA)
def test_adult_text_with_an_amount_is_not_csa(detector, text):
    assert detector.classify(text).label != "csa", detector.classify(text).reasons


@pytest.mark.parametrize("text", CSA)
def test_the_new_evidence_is_found(detector, text):
    assert detector.classify(text).label == "csa", detector.classify(text).reasons


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [("น้องวัย 14", 14, 14), ("น้องไม่เกิน 15", 11, 15), ("nong mai koen 13", 9, 13)],
)
def test_age_words(text, low, high):
    (age,) = parse_ages(text, Lexicon.default().tokenizer.tokenize(text))
    assert (age.low, age.high) == (low, high)


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("hlud!! m3", "hlud m3"),
        ("wow!!! kids", "wow kids"),
        ("l0l! pack", "loli pack"),
        ("lol! pack", "loli pack"),
        ("n!pple", "nipple"),
    ],
)
def test_two_trailing_exclamation_marks_are_punctuation_after_a_word(text, normalised):
    assert normalize(text) == normalised


@pytest.mark.parametrize(
    "text", ["ไม่เกิน 15", "งบไม่เกิน 15,000", "รับงาน ไม่เกิน 10.5 ชม", "mai koen 12 wan", "ทุกวัย 15"]
)
def test_amounts_are_not_ages(text):
    from ocsea.text.normalize import normalize as norm

    n = norm(text)
    assert parse_ages(n, Lexicon.default().tokenizer.tokenize(n)) == []
