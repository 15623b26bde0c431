"""What the seventh session changed in the detector.

Keyword-level texts written for this test (not copied from the blind set)."""

from __future__ import annotations

import pytest

from ocsea.text.analysis import analyze

# Romanised Thai arrest, court and report words were safe words alone; "jap" is also the
# porn tag for Japanese, "san" a Japanese honorific, "sal" a name and "jang" also จ้าง (hire):
# each silenced every rule on text it was appended to.
CSA = [
    "jap 12yo porn",
    "jap pthc",
    "hentai loli jap",
    "mei-san 12yo nude",
    "12yo nude sal",
    "dek 13 yed jang",
    "jang rup nakrian p.6 nude",
    # A generic safe word (legal, help, study...) no longer hides a child's stated age beside
    # a sexual term: offenders write "illegal", and any such word appended hid every csa text.
    "illegal 12yo porn",
    "12yo sex help",
    "study 13yo nude",
    "แจ้ง คลิปโป๊ เด็ก ม.2",
    "ส่งให้ผู้ปกครอง คลิปโป๊ น้อง ม.2",  # a threat to send to the parents
    # blind round-13 dev kinds: spoken and romanised grade groups beside a rating tag, two
    # giveaway or link words beside clips of a child named by grade, a legal minor in a set
    "รวมคลิป 18+ น้องมอสอง",
    "E:\\คลิป18+\\มอต้น\\ชุด2\\",
    "klip xxx nong matthayom ton",
    "แจกฟรี ลิงก์กลุ่ม คลิปน้องประถม",
    "F:\\misc\\underage\\set2.rar",
    "cp megalinks",
]

# Their phrases keep the news, court and reporting sense.
BENIGN = [
    "tamruat jap kon khai clip dek",
    "kao jap phu tong ha sue lamok dek",
    "san sang jam kuk khadee sue lamok dek",
    "jang kwam dek thuk luang lamerd",
    "jang baw sae sue lamok dek thi nai",
    # a crime's name beside a generic safe word stays discussion or help-seeking
    "pedophile help",
    "help for pedophiles therapy",
    "csam policy",
    "child porn history",
    "Lolita novel analysis",
    # a strong safe word (news, reporting, sex education) still silences every rule
    "sex education for 12 year olds",
    "เพศศึกษา ป.6 อวัยวะเพศ",
    "ข่าวจับ ครูอนาจาร นักเรียน ม.2",
    # a prank's hidden camera, as "prank" in English; a university (มอ) is no school grade
    "แกล้งเพื่อน ม.3 กล้องซ่อน",
    "เด็กมอ ปี 3 รีวิวหอพัก",
    # a legal-minor word beside a link in a report, and a single link beside a grade's clips
    "how to report underage content link",
    "แจกฟรี คลิปติว ม.3 ฟิสิกส์",
]


@pytest.mark.parametrize("text", CSA)
def test_a_word_that_only_sounds_like_arrest_or_court_silences_nothing(detector, text):
    v = detector.classify(text)
    assert v.label == "csa", v.reasons


@pytest.mark.parametrize("text", BENIGN)
def test_romanised_news_and_reporting_phrases_stay_safe(detector, text):
    v = detector.classify(text)
    assert v.label != "csa", v.reasons


def test_safe_words_are_strong_or_generic(detector):

    assert analyze("how to report", detector.lexicon).evidence.safe_strong
    assert analyze("ข่าว", detector.lexicon).evidence.safe_strong
    generic = analyze("help", detector.lexicon).evidence
    assert generic.intent_safe and not generic.safe_strong


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
    from ocsea.text.ages import parse_ages
    from ocsea.text.lexicon import Lexicon
    from ocsea.text.normalize import normalize

    n = normalize(text)
    (age,) = parse_ages(n, Lexicon.default().tokenizer.tokenize(n))
    assert (age.low, age.high) == (low, high)


@pytest.mark.parametrize("text", ["ขอมอสอง", "มหกรรม", "เด็กมอ ปี3", "มอไซค์"])
def test_words_that_start_like_a_grade_are_not_ages(text):
    from ocsea.text.ages import parse_ages
    from ocsea.text.lexicon import Lexicon
    from ocsea.text.normalize import normalize

    n = normalize(text)
    assert parse_ages(n, Lexicon.default().tokenizer.tokenize(n)) == []
