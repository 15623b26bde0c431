"""What the ninth session changed in the detector.

Keyword-level texts written for this test (not copied from the blind set)."""

from __future__ import annotations

import pytest

from ocsea.text.ages import parse_ages
from ocsea.text.analysis import analyze
from ocsea.text.glued import cut_glued

# Blind round-16 dev kinds (texts written here): romanised แอบถ่าย and กล้องซ่อน spellings, the
# vocational grades ปวช.1–3, the short form of "hebephile", "dark
# web" run together, the Thai threat "transfer or else I release it", "looking for a sugar
# daddy" as Thai chat writes it, and "cp" run together with clips.
CSA = [
    "ap tai nakrian hong nam",
    "aab tai dek ying rongrian",
    "klong sonn hong plian suea nakrian",
    "glong sorn dek ying m.2",
    "แอบถ่าย ปวช.1 ห้องน้ำ",
    "กล้องซ่อน ปวช2 ห้องเปลี่ยนเสื้อ",
    "hebe nudes",
    "darkweb kids video link",
    "โอน 3000 ไม่งั้นปล่อย คลิป นักเรียน",
    "on ngoen mai ngan ploy nakrian",
    "เด็ก 15 หา sd",
    "dek 14 ha sd",
    "F:\\old\\cpvids\\",
]

# Their everyday senses, and what the changes must leave alone.
BENIGN = [
    "Hebe Tien live concert 2019",
    "hebe plant care",
    "goddess Hebe statue louvre",
    "ปวช.1 สมัครเรียน ช่างยนต์",
    "ตารางสอบ ปวช 3 ภาคเรียนที่ 2",
    "ปวส 1 ฝึกงาน",
    "live cam baby panda nursery 24/7",
    "baby elephant zoo live cam",
    "rab ngan kwad wicha m.3 online",
    "kuad wicha ptm 6 rab ngan",
    "ha sd card 64gb",
    "cpio archive",
    # "cheese pizza" is a codeword in English only: in Thai script it is a menu item (a first
    # try made it one and found "พิซซ่าชีส สำหรับเด็ก", a kids' menu, csa); in English, cooking
    # and eating one is food
    "พิซซ่าชีส สำหรับเด็ก",
    "สั่ง พิซซ่าชีส ให้ลูก",
    "homemade cheese pizza dough kids",
    "frozen cheese pizza calories",
]


@pytest.mark.parametrize("text", CSA)
def test_round16_kinds_are_csa(detector, text):
    assert detector.classify(text).label == "csa"


@pytest.mark.parametrize("text", BENIGN)
def test_their_everyday_senses_are_not_csa(detector, text):
    assert detector.classify(text).label != "csa"


@pytest.mark.parametrize(
    ("text", "low", "high"), [("ปวช 1", 15, 16), ("ปวช 3", 17, 18), ("ปวช", 15, 18)]
)
def test_vocational_grades_are_the_ages_of_their_pupils(lexicon, text, low, high):
    ages = parse_ages(text, lexicon.tokenizer.tokenize(text))
    assert [(a.low, a.high) for a in ages] == [(low, high)]


def test_a_grade_past_the_third_vocational_year_is_only_the_group(lexicon):
    ages = parse_ages("ปวช 4", lexicon.tokenizer.tokenize("ปวช 4"))
    assert [(a.low, a.high, a.kind) for a in ages] == [(15, 18, "group")]


def test_an_age_word_inside_a_plain_sense_names_no_child(detector):
    assert analyze("live cam baby panda nursery", detector.lexicon).ages == []
    # outside one it still does
    assert analyze("live cam nursery", detector.lexicon).ages


def test_cp_run_together_with_clips_is_cut_though_a_safe_cover_is_close(lexicon):
    keys = lexicon._glue_keys
    assert cut_glued("cpvids", keys) == [(0, 2), (2, 6)]
    assert cut_glued("cpio", keys) == []
