"""The romanised-Thai spelling skeleton: spellings of one word meet, English words stay apart."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocsea.text.romanised import rom_skeleton


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 ", max_size=24))
def test_skeleton_is_stable(word):
    once = rom_skeleton(word)
    assert rom_skeleton(once) == once
    assert " " not in once


def test_spellings_of_one_word_meet():
    groups = [
        ["nakrian", "nakrien", "nakrean", "nak rian"],  # นักเรียน
        ["siao", "siew", "sieow", "siaw"],  # เสียว
        ["lud", "lut", "lood", "hlud", "lhud"],  # หลุด
        ["ngern", "ngoen"],  # เงิน
        ["rap ngan", "rab ngan", "rapngan"],  # รับงาน
        ["klum lap", "glum lab", "klum lab"],  # กลุ่มลับ
        ["mhor", "mor"],  # ม.
        ["dekk", "dek"],  # เด็ก
    ]
    for spellings in groups:
        assert len({rom_skeleton(s) for s in spellings}) == 1, spellings


def test_different_words_stay_apart():
    # ลูก (a child) is not แลก (to swap); เด็ก is not ดัก.
    assert rom_skeleton("luk") != rom_skeleton("laek")
    assert rom_skeleton("dek") != rom_skeleton("dak")


def test_lexicon_finds_unlisted_spellings_but_not_english_words(lexicon):
    def found(text):
        toks = lexicon.tokenizer.tokenize(text)
        return {(m.entry.category, m.kind) for m in lexicon.match(toks)}

    assert ("minor", "romanised") in found("nakreean")
    assert ("sexual", "romanised") in found("klipsiew")
    assert not found("loud")  # intent words are not respelt ("lud", หลุด)
    # A token that is its own skeleton is never respelt: "yet" is not เย็ด ("yed").
    assert not any(c == "sexual" for c, _ in found("not yet"))
    # Codewords match only as spelt ("Saylor" is not "sai lo").
    assert not any(c == "csa_code" for c, _ in found("saylor"))


@pytest.mark.parametrize(
    "text",
    [
        "loud kids video",  # "loud" folds onto หลุด ("lud"): respelt intent words make no evidence
        "kid loot box",
        "loud children.mp4",
        "lag kids clip",  # "lag" onto แลก ("laek")
        "level is 14 nude mod",  # "is 14" is no one's age
        "my score is 15 nude",
        "หางานสายเด็กเสิร์ฟ",  # waiter work: no re-cut makes the codeword "สายเด็ก"
        "รีวิวพีโดรน",  # a drone review: no re-cut makes "พีโด"
    ],
)
def test_an_independent_reviews_false_alarms_stay_fixed(detector, text):
    assert detector.classify(text).label != "csa"


def test_what_the_fixes_keep(detector):
    assert detector.classify("leak her nudes she's 15 unless she pays").label == "csa"
    assert detector.classify("[แท้] โลลิไทย ล่าสุด ไม่มีโฆษณา").label == "csa"
