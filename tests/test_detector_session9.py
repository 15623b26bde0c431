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
    "glong sonn dek ying m.2",
    "แอบถ่าย ปวช.1 ห้องน้ำ",
    "กล้องซ่อน ปวช2 ห้องเปลี่ยนเสื้อ",
    "hebe nudes",
    "darkweb kids video link",
    "on ngoen mai ngan ploy nakrian",
    "เด็ก 15 หา sd",
    "dek 14 ha sd",
    "F:\\old\\cpvids\\",
    # blind round-17 dev kinds: terms run together or respelt, threats to tell a child's
    # parents, Thai transliterations of "underage" and "collection", changing rooms
    "cheesepizza links pack",
    "livecam recs minors",
    "leak her pics unless she pays 13yo",
    "ห้องเปลี่ยนเสื้อ ม.3 คลิป",
    "nakrian m.2 rabngarn",
    "dek m.2 ha paa liang",
    "เปโด คอลเลคชั่น",
    # changing rooms and bathrooms beside clips, a video file or a leak
    "ห้องเปลี่ยนชุดพละ ม.2 คลิป",
    "locker room 13yo video",
    "hong nam nakrian clip",
    "ห้องน้ำหญิง ป.5 leaked",
    "hongplian_sua_dek_m2.mp4",
    # a third review found these missed with the rooms as places: camera words, hidden
    # folders, pictures; and the threat to send a child's pictures to the parents
    "ห้องน้ำหญิง ป.6 กล้อง",
    "changing room 12yo camera",
    "ซ่อน/ห้องเปลี่ยนชุด_ป.6_01.jpg",
    "hidden/locker_room_grade7_0012.jpg",
    "hong nam nakrian klong",
    "รูปน้อง 13 ขู่ส่งให้พ่อแม่",
    "คลิป ม.2 ขู่ส่งพ่อแม่",
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
    "รับงานกวดวิชา ม.3 ออนไลน์",
    "rub ngan kuad wicha ptm 6",
    "ha sd card 64gb",
    "cpio archive",
    # "cheese pizza" is a codeword in English only: in Thai script it is a menu item (a first
    # try made it one and found "พิซซ่าชีส สำหรับเด็ก", a kids' menu, csa); in English, cooking
    # and eating one is food
    "พิซซ่าชีส สำหรับเด็ก",
    "สั่ง พิซซ่าชีส ให้ลูก",
    "ครูส่งรูปกิจกรรม ป.2 ให้พ่อแม่",
    "kids art collection คอลเลกชัน ของเล่น",
    # a review of the round-17 fixes found these csa: bills beside a child word, a parent
    # asking about a threat to tell, changing rooms in school works, rotas and shops
    "school trip grade 4 cancelled unless you pay by friday",
    "kids app subscription will expire unless you pay",
    "ลูก ป.4 โดนเพื่อนขู่บอกพ่อแม่ ทำยังไงดี",
    "เวรทำความสะอาดห้องเปลี่ยนเสื้อ ม.3",
    "ซ่อมห้องเปลี่ยนชุด โรงเรียน",
    "ชุดว่ายน้ำเด็ก ห้องเปลี่ยนเสื้อ",
    "school changing room repair",
    "locker room kids",
    "rub ngarn kuad wicha ptm 6",
    # and these csa when video extensions were media: a family's and a school's videos
    "ม.1 จ่ายค่าเทอม.mp4",
    "grade 3 bake sale price list.mp4",
    "kid 7yo lemonade stand cash.mp4",
    "cp edit.mp4",
    "ห้องเปลี่ยนชุดพละ.mp4",
    "ห้องเปลี่ยนชุดพละ ใหม่ โรงเรียน รูป",
    "ซ่อมห้องเปลี่ยนชุด โรงเรียน.mp4",
    "โรงเรียนขู่ส่งพ่อแม่ ม.2 มาสาย",
    "hidden object game kids",
    # a review of this session's change found these csa (its first try)
    "ช่างไฟฟ้า วุฒิ ปวช รับงาน",
    "จบ ปวช รับงาน",
    "ขายเสื้อช็อป ปวช",
    "กลุ่ม telegram ปวช ช่างยนต์",
    "เด็ก หา sd card",
    "ม.3 หา sd card",
    "dek m.3 ha sd card",
    "ทารก ไม่งั้นปล่อยให้ร้อง",
    "นักเรียน มาสาย ไม่งั้นปล่อย",
    "glong son",
    "rian glong son dek",
    "klong sorn kids",
    "cpfolder.sh",
    "F:\\backup\\cpfolder\\",
]


# The same review found these hidden by the first try's safe phrases (food words around
# "cheese pizza", tutoring written in Thai): they must stay csa.
NOT_HIDDEN = [
    "cheese pizza slice 12yo",
    "four cheese pizza 11yo link",
    "three cheese pizza mega link",
    "cp 12yo กวดวิชา",
    "ขาย คลิป เด็ก 12 กวดวิชา",
    "cp 12yo rab ngan kwad wicha",
    "cp 12yo kwad wicha",
]


@pytest.mark.parametrize("text", CSA + NOT_HIDDEN)
def test_this_sessions_kinds_are_csa_and_its_safe_phrases_hide_none(detector, text):
    assert detector.classify(text).label == "csa"


@pytest.mark.parametrize("text", BENIGN)
def test_their_everyday_senses_are_not_csa(detector, text):
    assert detector.classify(text).label != "csa"


@pytest.mark.parametrize(("text", "low", "high"), [("ปวช 1", 15, 16), ("ปวช 3", 17, 18)])
def test_vocational_grades_are_the_ages_of_their_pupils(lexicon, text, low, high):
    ages = parse_ages(text, lexicon.tokenizer.tokenize(text))
    assert [(a.low, a.high) for a in ages] == [(low, high)]


@pytest.mark.parametrize("text", ["ปวช 4", "ปวช", "วุฒิ ปวช"])
def test_vocational_without_its_year_states_no_age(lexicon, text):
    # ปวช alone is as often an adult's diploma ("วุฒิ ปวช")
    assert parse_ages(text, lexicon.tokenizer.tokenize(text)) == []


def test_an_age_word_inside_a_plain_sense_names_no_child(detector):
    assert analyze("live cam baby panda nursery", detector.lexicon).ages == []
    # outside one it still does
    assert analyze("live cam nursery", detector.lexicon).ages


def test_cp_run_together_with_clips_is_cut_though_a_safe_cover_is_close(lexicon):
    keys = lexicon._glue_keys
    assert cut_glued("cpvids", keys) == [(0, 2), (2, 6)]
    assert cut_glued("cpio", keys) == []
    assert cut_glued("cpfolder", keys) == []  # a copy script's name
