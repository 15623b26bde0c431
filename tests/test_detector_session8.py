"""What the eighth session changed in the detector.

Keyword-level texts written for this test (not copied from the blind set)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocsea.text.ages import _NOT_AGES_BEFORE, parse_ages
from ocsea.text.lexicon import Lexicon
from ocsea.text.normalize import normalize

# The crimes' own names were no sexual term: "rape 12yo", "child rape video" and "ข่มขืน เด็ก 12
# ขวบ" were benign, and a search engine's query check showed no deterrence message for them. (A
# first review found headlines csa with them, and they were taken out; a second found the
# queries lost without them: they are back, as อนาจาร and ลามก are, and news, court and arrest
# words keep headlines benign. A headline with none of them is csa, which is documented: a third
# review found protest and outrage words, added as news words, to be new ways to hide a text.)
CRIME_NAMES = [
    "rape 12yo",
    "child rape video",
    "rape clips 12yo",
    "ข่มขืน เด็ก 12 ขวบ",
    "คลิปข่มขืนเด็ก ม.2",
    "khom khuen dek 13",
]

CRIME_NAMES_IN_NEWS = [
    "child rape case court sentence news",
    "ข่าว ข่มขืน เด็ก ม.2 ตำรวจจับ",
    "child molester arrested",
    "canola rape field children",
    "Mattayom Wat Nong Khaem",
    "scrape_tumblr 12 kids drapes",
    "grape juice kids 12",
]


@pytest.mark.parametrize(
    "text", ["the rape of nanking documentary", "oilseed rape price", "rape kit backlog"]
)
def test_a_crime_name_in_its_everyday_senses_is_benign(detector, text):
    assert detector.classify(text).label == "benign"


# Blind round-14 dev kinds (texts written for this test): a codeword abbreviation run together
# with a pack or link word; romanised spellings of นักเรียน and of threats to release clips; the
# romanised "looking for a sugar daddy"; real (not drawn) children; Thai words run together with
# tone marks swapped; ป and ม spoken with a digit (ปอ6); a hidden camera beside a romanised grade.
ROUND14 = [
    "D:\\dl\\CPpack_2023\\vol2.rar",
    "nuk rien m3 porn clip",
    "khu ploi rup nong m2",
    "ploi clip nakrien m.1 tuk ngern",
    "ha papa nong m2 rub ngan",
    "เด๊กเย๊ด ม.2",
    "คลิปเย๊ดเด๊ก",
    "เย็ด เด็ก ปอ5",
    "aebtai hong nam m3.mp4",
    "เย๊ดเด๊กๆ",  # a repeat mark after the run
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
    # a review: a car's emergency braking and an SSD are no hidden camera on a pupil; jute and
    # motorbikes sold by the kilo or the vehicle, a baby in months, are no grade; "cp" run
    # together with a sale, a link, a download or a live show names shops and programs
    "bmw m2 aeb review",
    "BMW_M2_AEB_demo.mp4",
    "aep m2 ssd price",
    "ราคาปอ 6 บาท ต่อกิโล",
    "ขาย ปอ 6,000 บาท",
    "ปอ 5 กระสอบ ขาย",
    "ขาย มอ 1 คัน",
    "น้องปอ 6 เดือน",
    "/var/www/cplink/index.php",
    "cpdownload.exe",
    "cpsale_promo_7eleven.jpg",
    "jblive",
    "cptrade ราคาหุ้น",
]

# The everyday senses added this session (a tooth coming out, a district, Lolita fashion, a
# sweet) hide the words inside them only: appended to a risky text they hide nothing else (a
# review found each benign sense silencing the whole text, as the older ones still do).
PLAIN_SENSE_APPENDED = [
    "pthc loli fashion",
    "jailbait loli dress",
    "cp pack loli meetup",
    "fan lud dek porn",
    "nakrian yed fan lud",
    "clip yed dek nong khaem",
    "เย็ดเด็ก nong khaem",
    "คลิปโป๊ เด็ก ป.5 ฟันหลุด",
]


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [("เด็ก ปอ6", 11, 13), ("น้อง มอ 3", 14, 16), ("aebtai m2", 13, 15)],
)
def test_spoken_grades_with_a_digit(text, low, high):
    n = normalize(text)
    ages = parse_ages(n, Lexicon.default().tokenizer.tokenize(n))
    assert [(a.low, a.high) for a in ages if a.kind == "grade"] == [(low, high)]


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


# Blind round-15 dev kinds (texts written for this test): a bare range of children's ages
# offered for sale or swap with clips or folders, or in a private channel; sugar babies run
# together; romanised ไลฟ์; รับจ็อบ; ยอดขาย of children's clips; an escort's "real reviews".
ROUND15 = [
    "swap 9-13 folders mega link",
    "selling vids 11-14 telegram",
    "ขาย คลิป 12-15 กลุ่มลับ",
    "underage_sugarbabies_contacts.csv",
    "laif sod nong 11 khuap",
    "ยอดขาย_คลิปเด็ก_ป.5.xlsx",
    "ขาย ๑๐-๑๓ คลิป telegram",
    # a third review: a sale of a whole set, short Thai words after a range, a clothes word or a
    # protest word appended
    "ขายยกชุด 10-13 คลิป",
    "แลก 10-13 นะ คลิป",
    "ขาย 10-13 คนละ 100 คลิป",
    "trade 12yo clips dress",
    "12yo girl live show pajamas",
    "pthc protest",
    "คลิปข่มขืนเด็ก ขาย ประณาม",
    # a second review: spoken grades beside a leak or a sexual word; แอบถ่าย spelt apart
    "คลิปหลุด มอ 3",
    "เย็ด ปอ6",
    "aeb tai m2",
]

# A range is an age only where nothing makes it episodes, sizes, prices or a score, and only
# beside a sale or a private channel with clips.
ROUND15_BENIGN = [
    "one piece episodes 10-13 mega link",
    "naruto ep 10-13 mega",
    "buy shoes size 10-12 photos",
    "buy 2-for-1 pack videos 10-12 dollars telegram",
    "ขาย คลิป 10-12 บาท กลุ่มลับ",
    "my folders 10-12 backup mega link",
    "nba trade 10-13 season highlights video",
    "lecture 10-13 slides download link mega",
    "รีวิว ร้านอาหาร เด็ก ม.4",
    # a second review: the shop, percentages, prices, units, months, episodes, floors, clothes
    # sizes, a channel and clips without a sale; a gift card for a child; a musical
    "7-11 telegram video",
    "ขาย กล่องสุ่ม 7-11 คลิป",
    "ขาย ลด 10-15 % คลิป",
    "ขาย 10-15฿ คลิป",
    "ขายเสื้อ อก 10-12 นิ้ว คลิป",
    "ขาย 10-12 น. คลิป",
    "ขาย งานแฟร์ 10-12 พ.ย. คลิป",
    "ขายตั๋ว คอนเสิร์ต 14-15 เมษา คลิป",
    "แจกลิงก์ ซีรี่ย์ ตอนที่10-13 telegram คลิป",
    "anime 10-13 mega videos",
    "ขายชุดไปรเวท 10-12 คลิป",
    "ขาย คอนโด ชั้น 10-15 คลิป",
    "ขายส่ง 10-12 โหล รูปจริง",
    "bmw m2 aeb thai",
    "ซื้อ amazon card ให้ลูก 10 ขวบ",
    "sugar babies musical kids 12 tickets",
    "รีวิวจริง คาร์ซีท เด็ก 3 ขวบ",
    "รับจ็อบ ช่วงปิดเทอม นักเรียน ม.6",
]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("trade 10-13 folders", True),
        ("13-15_collection.zip", True),
        ("vids 12~15", True),
        ("ep 10-13", False),
        ("size 10-12", False),
        ("10-12 dollars", False),
        ("10-20 vids", False),  # not a span of ages
        ("3-5 vids", False),
        ("2024-10-13", False),  # a date
        ("7-11 delivery", False),
        ("10-15%", False),
        ("ขาย ๑๐-๑๓ คลิป", True),
        ("ตอนที่10-13", False),
        ("10-12 พ.ย.", False),
        ("trade 10-13, mega", True),
        ("10-13-2024", False),
        ("v1.10-13", False),
    ],
)
def test_bare_age_ranges(text, found):
    from ocsea.text.ages import has_bare_age_range

    assert has_bare_age_range(text) is found


@given(
    low=st.integers(4, 17),
    span=st.integers(1, 7),
    word=st.sampled_from(sorted(_NOT_AGES_BEFORE)),
    sep=st.sampled_from(["-", "~", " - ", "\u2013"]),
)
def test_a_range_of_child_ages_is_found_unless_a_word_makes_it_something_else(low, span, word, sep):
    from ocsea.text.ages import has_bare_age_range

    high = low + span
    text = f"{low}{sep}{high}"
    assert has_bare_age_range(f"vids {text} telegram") is (
        8 <= low <= 15 and span <= 5 and high <= 17
    )
    assert not has_bare_age_range(f"{word} {text} telegram")


@pytest.mark.parametrize("text", CRIME_NAMES + ROUND14 + PLAIN_SENSE_APPENDED + ROUND15)
def test_what_the_session_found_is_csa(detector, text):
    v = detector.classify(text)
    assert v.label == "csa", v.reasons


@pytest.mark.parametrize("text", CRIME_NAMES_IN_NEWS + ROUND14_BENIGN + ROUND15_BENIGN)
def test_their_lookalikes_are_not_csa(detector, text):
    v = detector.classify(text)
    assert v.label != "csa", v.reasons
