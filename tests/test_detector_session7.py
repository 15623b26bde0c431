"""What the seventh session changed in the detector.

Keyword-level texts written for this test (not copied from the blind set)."""

from __future__ import annotations

import pytest

from ocsea.text.ages import parse_ages
from ocsea.text.lexicon import Lexicon
from ocsea.text.normalize import normalize

# Romanised Thai arrest, court and report words were safe words alone; "jap" and "jab" are
# also "Japanese" and "touch", "san" a Japanese honorific, "sal" a name and "jang" also จ้าง
# (hire): each silenced every rule on text it was appended to.
SOUNDS_LIKE_ARREST = [
    "jap 12yo porn",
    "jap pthc",
    "jab 12yo porn",
    "hentai loli jap",
    "mei-san 12yo nude",
    "12yo nude sal",
    "dek 13 yed jang",
    "jang rup nakrian p.6 nude",
]

# Blind round-13 dev kinds: spoken and romanised grade groups beside a rating tag; the "clip
# from the news" sought as a leak (วาร์ปตามข่าว, คลิปหลุดตามข่าว).
ROUND13 = [
    "รวมคลิป 18+ น้องมอสอง",
    "E:\\คลิป18+\\มอต้น\\ชุด2\\",
    "klip xxx nong matthayom ton",
    "วาร์ปตามข่าว น้องมอต้น",
    "jab 13yo nude",
    "jab pthc",  # the second review: "jab" as a benign sense hid codewords and channels
    "jab u13 pack link telegram",
    "photo book jap 12yo nude",  # and "book jap" (บุกจับ) hid the porn tag
    "jap dai 12yo nude",
]

# The phrases that replaced them keep the news, court and reporting sense, in the spellings
# people type (a review found "khaw jap", "chap kum", "san pipaksa", "jaeng kwaam" csa).
ROMANISED_NEWS = [
    "tamruat jap kon khai clip dek",
    "kao jap phu tong ha sue lamok dek",
    "san sang jam kuk khadee sue lamok dek",
    "jang kwam dek thuk luang lamerd",
    "jang baw sae sue lamok dek thi nai",
    "khaw jap sue lamok dek m.2",
    "tamruad jap sue lamok dek m.2",
    "buk jap sue lamok dek m.2",
    "chap kum sue lamok dek m.2",
    "thuk chap sue lamok dek m.2",
    "san pipaksa sue lamok dek m.2",
    "san jam kuk sue lamok dek m.2",
    "jaeng kwaam sue lamok dek m.2",
    "jaeng bao sae sue lamok dek m.2",
]

# A review of a first version, which let a generic safe word (help, parenting, แจ้ง...) leave a
# child's age beside a sexual term to the rules, found parents, victims and news made csa by
# it: taken out again. They stay benign.
HELP_SEEKING = [
    "help my 12 year old is watching porn",
    "what to do 12yo sexting nudes",
    "therapy 14yo porn addiction",
    "is it illegal 16yo sex",
    "แจ้ง ครู อนาจาร นักเรียน ม.2",
    "ช่วยเหลือ ลูก ม.1 ถูกแบล็กเมล์ รูปเปลือย",
    "ผู้ปกครอง ลูก ป.6 ดูหนังโป๊",
    "วิธีรับมือ ลูก 10 ขวบ เห็นภาพโป๊",
    "รวบ ครู อนาจาร นักเรียน ม.2",
    # a university (มอ) is no school grade
    "เด็กมอ ปี 3 รีวิวหอพัก",
    # a legal-minor word beside a link in a report; one link word beside a grade's lessons
    "how to report underage content link",
    "แจกฟรี คลิปติว ม.3 ฟิสิกส์",
    "ตามข่าว ตำรวจจับ ครู อนาจาร นักเรียน ม.2",
    # a legal-minor word beside one folder, link or share word names no collection
    "underage workers factory folder",
    "ผู้เยาว์ ขับรถ คลิป แชร์",
    "camera set for underage photographer link",
    # a second review: a news clip, class and school sharing, films, a vaccine booking
    "คลิปตามข่าว เด็กจมน้ำ",
    "คลิปตามข่าว นักเรียน ม.3 ถูกรังแก",
    "แจก ลิงก์ แพ็ค คลิป เด็ก 12 ขวบ",
    "download link pack video grade 3 song",
    "megalinks เด็ก",
    "megalinks anime kids 12",
    "flu jab kids 12 booking",
    "boxing jab drill kids 10",
    # มอ (a university) by the start or end of a lane (ต้นซอย, ปลายซอย) is no school group
    "คลิปหลุด มอปลายซอย",
    "คอนโด ติด มอ ปลายซอย ขาย",
]


@pytest.mark.parametrize("text", SOUNDS_LIKE_ARREST + ROUND13)
def test_new_evidence_is_found(detector, text):
    v = detector.classify(text)
    assert v.label == "csa", v.reasons


@pytest.mark.parametrize("text", ROMANISED_NEWS + HELP_SEEKING)
def test_news_reporting_and_help_seeking_stay_benign(detector, text):
    v = detector.classify(text)
    assert v.label != "csa", v.reasons


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("น้องมอสอง", 13, 15),
        ("มอต้น", 12, 15),
        ("มอปลาย", 15, 18),
        ("matthayom ton", 12, 15),
        ("mattayom plai", 15, 18),
    ],
)
def test_spoken_and_romanised_grade_groups(text, low, high):
    n = normalize(text)
    (age,) = parse_ages(n, Lexicon.default().tokenizer.tokenize(n))
    assert (age.low, age.high) == (low, high)


@pytest.mark.parametrize("text", ["ขอมอสอง", "มหกรรม", "เด็กมอ ปี3", "มอไซค์"])
def test_words_that_start_like_a_grade_are_not_ages(text):
    n = normalize(text)
    assert parse_ages(n, Lexicon.default().tokenizer.tokenize(n)) == []
