"""What the eighth session changed in the detector.

Keyword-level texts written for this test (not copied from the blind set)."""

from __future__ import annotations

import pytest

from ocsea.text.ages import parse_ages
from ocsea.text.lexicon import Lexicon
from ocsea.text.normalize import normalize

# The names of the sexual crimes themselves were no sexual term: "rape 12yo" and "ข่มขืน เด็ก 12
# ขวบ" were benign, and a search engine's query check showed no deterrence message for them.
CRIME_NAMES = [
    "rape 12yo",
    "child rape video",
    "ข่มขืน เด็ก 12 ขวบ",
    "khom khuen dek 13",
]

# News, court and essay words keep their safe sense; a district whose romanised name holds
# "khaem" (แคม, a webcam) is no live show; words that only contain "rape" are not it.
CRIME_NAMES_IN_NEWS = [
    "child rape case court sentence news",
    "ข่าว ข่มขืน เด็ก ม.2 ตำรวจจับ",
    "ครูข่มขืนนักเรียน ม.2 ศาลตัดสิน",
    "child molester arrested",
    "Mattayom Wat Nong Khaem",
    "scrape_tumblr 12 kids drapes",
    "grape juice kids 12",
]


@pytest.mark.parametrize("text", CRIME_NAMES)
def test_crime_names_with_a_child_are_csa(detector, text):
    v = detector.classify(text)
    assert v.label == "csa", v.reasons


@pytest.mark.parametrize("text", CRIME_NAMES_IN_NEWS)
def test_crime_names_in_news_and_lookalikes_are_not(detector, text):
    v = detector.classify(text)
    assert v.label != "csa", v.reasons


def test_a_crime_name_alone_is_adult_at_most(detector):
    assert detector.classify("the rape of nanking documentary").label == "benign"
    assert detector.classify("rape culture essay").label == "benign"


# Blind round-14 dev kinds (texts written for this test): a codeword abbreviation run together
# with a pack or link word; romanised spellings of นักเรียน and of threats to release clips; the
# romanised "looking for a sugar daddy"; real (not drawn) children; Thai words run together with
# tone marks swapped; ป and ม spoken with a digit (ปอ6); a hidden camera beside a romanised grade.
ROUND14 = [
    "D:\\dl\\CPpack_2023\\vol2.rar",
    "cplink telegram",
    "nuk rien m3 porn clip",
    "khu ploi rup nong m2",
    "ploi clip nakrien m.1 tuk ngern",
    "ha papa nong m2 rub ngan",
    "real loli pics pack",
    "เด๊กเย๊ด ม.2",
    "คลิปเย๊ดเด๊ก",
    "เย็ด เด็ก ปอ5",
    "aebtai hong nam m3.mp4",
]

# What the same changes must leave alone: Lolita fashion, a child's first lost tooth, Por (a
# nickname) at six, an English word that begins with cp, news of threats, study of a grade.
ROUND14_BENIGN = [
    "real loli fashion coord haul",
    "loli coord meetup bangkok",
    "dek fan lud khrang raek",
    "fanlud dek 6 khuap",
    "น้องปอ 6 ขวบ เต้น",
    "cpanel hosting backup",
    "ปอ6 ติวสอบ เข้า ม.1",
    "tamruat jap khon khu ploi clip",
    "เด๊กนักเรียน ม.2 ตัวอย่างข้อสอบ",
]


@pytest.mark.parametrize("text", ROUND14)
def test_round14_kinds_are_found(detector, text):
    v = detector.classify(text)
    assert v.label == "csa", v.reasons


@pytest.mark.parametrize("text", ROUND14_BENIGN)
def test_round14_lookalikes_stay_benign(detector, text):
    v = detector.classify(text)
    assert v.label != "csa", v.reasons


@pytest.mark.parametrize(
    ("text", "low", "high"), [("ปอ6", 11, 13), ("มอ 3", 14, 16), ("aebtai m2", 13, 15)]
)
def test_spoken_grades_with_a_digit(text, low, high):
    n = normalize(text)
    ages = parse_ages(n, Lexicon.default().tokenizer.tokenize(n))
    assert [(a.low, a.high) for a in ages] == [(low, high)]


def test_nickname_with_an_age_is_no_grade():
    n = normalize("น้องปอ 6 ขวบ")
    ages = parse_ages(n, Lexicon.default().tokenizer.tokenize(n))
    assert [(a.low, a.high) for a in ages] == [(6, 6)]


def test_tone_swapped_run_together_thai_is_read_whole():
    lex = Lexicon.default()
    n = normalize("เย๊ดเด๊ก")
    found = lex.match(lex.tokenizer.tokenize(n))
    assert {m.entry.category for m in found} >= {"sexual", "minor"}
    assert {m.kind for m in found} == {"skeleton"}
    # letters no term covers: the skeleton reading is not believed
    n = normalize("เด๊กฆฮฒ")
    assert not [m for m in lex.match(lex.tokenizer.tokenize(n)) if m.kind == "skeleton"]
