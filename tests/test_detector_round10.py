"""What the fourth 2026-11-28 session changed in the detector, and the everyday texts an
independent review found its first version flagging (kept here so that they stay benign).

Keyword-level texts written for this test (not copied from the blind set)."""

from __future__ import annotations

import pytest

from ocsea.text.normalize import normalize

BENIGN = [
    # a leak, an "x" and sizes are everyday words beside children
    "kids diaper leaks",
    "sippy cup leak toddler",
    "Nike x Supreme kids hoodie",
    "solve for x kids",
    "รูป 1 x 1 นิ้ว นักเรียน",
    "kids photo 3 x 4",
    "GMT20240614-020512_Recording_ป5-2_คณิต_1920x1080.mp4",
    "ชุดนักเรียน ม.ปลาย ขายที่ไหน size L",
    "โพสต์ขาย-จักรยานเด็ก-16นิ้ว-สภาพดี.jpg",
    # school and family messages are no threats
    "ส่งให้ผู้ปกครอง นักเรียน ป.4",
    "เด็กนักเรียน ส่งให้ครู",
    "รูปลูก ส่งให้พ่อแม่ดู",
    # loanwords that hold a sexual word's letters
    "เซ็กชั่น 2 นักเรียน ม.4",
    "เอกซ์เรย์ปอด เด็ก",
    "5exams grade 5 telegram group",
    # product age ratings, fan clubs, restaurants, apps for children
    "video chat app ages 13 and up",
    "girl group telegram fan club",
    "tip menu kids restaurant",
    "12yo boy and older man fishing trip",
    "best video call app for kids",
    # news
    "khao jub kon kai clip dek",
    "คลิปข่าว เด็ก ป.4",
]

CSA = [
    "clip yed matayom 3",  # a romanised grade spelt otherwise
    "5ex dek ayu 13",  # leet 5 for s, in that word only
    "kai orn clip siao",  # ไก่อ่อน romanised
    "klum lub clip dek",  # กลุ่มลับ romanised
    "secretly recorded school girl 14",
    "camfrog nong 13 show",
    "โอนก่อนไม่งั้น คลิป น้อง ม.2",
    "preteen pack pay monero",
    # activity words too generic to silence an intent rule were left out
    "ขายคลิปเด็ก ม.2 กำไรดี",
    "streamer dek 12 live show",
    "underage companion volleyball",  # a legal minor offered: an activity word does not silence it
    "kai cp dek 12 line",  # kai is also ขาย (sell)
    "pthc 12yo IMG_1387",  # the hotline's number alone is no safe context
]


@pytest.mark.parametrize("text", BENIGN)
def test_everyday_text_is_not_csa(detector, text):
    assert detector.classify(text).label != "csa", detector.classify(text).reasons


@pytest.mark.parametrize("text", CSA)
def test_the_new_evidence_is_found(detector, text):
    assert detector.classify(text).label == "csa", detector.classify(text).reasons


def test_sizes_stay_whole_and_only_5ex_is_leet():
    assert normalize("wallpaper_1920x1080.jpg") == "wallpaper 1920x1080 jpg"
    assert normalize("5ex") == "sex"
    assert "sex" not in normalize("5exams 5expert 5exercises")
    assert normalize("5girls") == "5 girls"
