import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ocsea.text.ages as age_parser
from ocsea.text.ages import parse_ages
from ocsea.text.lexicon import Lexicon
from ocsea.text.normalize import normalize
from ocsea.text.tokenize import Token


@pytest.fixture(scope="module")
def lex():
    return Lexicon.default()


def ages(lex, raw):
    text = normalize(raw)
    return [(a.low, a.high) for a in parse_ages(text, lex.tokenizer.tokenize(text))]


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("12yo", [(12, 12)]),
        ("12y", [(12, 12)]),
        ("12 yrs", [(12, 12)]),
        ("12 y/o", [(12, 12)]),
        ("twelve years old", [(12, 12)]),
        ("(10-12y)", [(10, 12)]),
        ("age 9", [(9, 9)]),
        ("อายุ 12", [(12, 12)]),
        ("อายุ๑๒ปี", [(12, 12)]),
        ("12 ขวบ", [(12, 12)]),
        ("ป.5", [(10, 12)]),
        ("ป๕", [(10, 12)]),
        ("ม.2", [(13, 15)]),
        ("ม3", [(14, 16)]),
        ("ม.ต้น", [(12, 15)]),
        ("ม.ปลาย", [(15, 18)]),
        ("อนุบาล", [(3, 6)]),
        ("ประถม", [(6, 12)]),
        ("ด.ญ.", [(0, 14)]),
        ("ด.ช.", [(0, 14)]),
        ("5th grade", [(10, 12)]),
        ("mor 2", [(13, 15)]),
        ("mhor 3 clip", [(14, 16)]),
        ("under 12 pack", [(8, 11)]),
        ("dek 5 khuap", [(5, 5)]),
        ("สาว 19", [(19, 19)]),
        ("22yo", [(22, 22)]),
        ("meet 12 year olds", [(12, 12)]),  # the plural of "year old"
        ("swap boy vids 10-13", [(10, 13)]),  # a clip word between the child and the ages
        ("laisod nong p6", [(11, 13)]),  # romanised ป.6 in one token beside a child word
        ("lud nr m5", [(16, 18)]),  # นร. (a pupil) makes "m5" a grade
    ],
)
def test_parses(lex, raw, want):
    assert ages(lex, raw) == want


@pytest.mark.parametrize(
    "raw",
    [
        "18+ only",
        "2024 video",
        "1080p",
        "iphone 15",
        "รูป5ใบ",
        "ราคา 120 บาท",
        "size 10",
        "m2 area",
        "12 pack beer",
    ],
)
def test_no_false_ages(lex, raw):
    assert ages(lex, raw) == []


def test_adult_age_flags(lex):
    text = normalize("สาว 19")
    (a,) = parse_ages(text, lex.tokenizer.tokenize(text))
    assert a.adult and not a.minor


def _parse_ages_without_gates(text, tokens):
    """parse_ages as it was before each scan got a substring gate: every scan, always."""
    found = []
    for m in age_parser._RANGE_RX.finditer(text):
        a, b = sorted((int(m.group(1)), int(m.group(2))))
        found.append(age_parser.AgeMention(a, b, m.start(), m.end(), "range", m.group(0)))
    for m in age_parser._SINGLE_RX.finditer(text):
        v = int(m.group(1))
        found.append(age_parser.AgeMention(v, v, m.start(), m.end(), "age", m.group(0)))
    for rx, kind in ((age_parser._AGE_PREFIX_RX, "stated"), (age_parser._THAI_GIRL_AGE_RX, "age")):
        for m in rx.finditer(text):
            v = int(m.group(1))
            found.append(age_parser.AgeMention(v, v, m.start(), m.end(), kind, m.group(0)))
    for m in age_parser._WORD_RX.finditer(text):
        v = age_parser._WORD_NUMBERS[m.group(1)]
        found.append(age_parser.AgeMention(v, v, m.start(), m.end(), "age", m.group(0)))
    for m in age_parser._ORDINAL_GRADE_RX.finditer(text):
        if m.group(3) is not None and not age_parser._has_child_word(tokens):
            continue
        g = (
            int(m.group(1) or m.group(2))
            if m.group(3) is None
            else age_parser._ORDINAL_WORDS[m.group(3)]
        )
        if 1 <= g <= 12:
            found.append(
                age_parser.AgeMention(g + 5, g + 7, m.start(), m.end(), "grade", m.group(0))
            )
    for m in age_parser._UNDER_RX.finditer(text):
        v = int(m.group(1))
        if 8 <= v < age_parser.ADULT_AGE and not age_parser._counts_something(text, m.end()):
            found.append(
                age_parser.AgeMention(max(0, v - 4), v - 1, m.start(), m.end(), "under", m.group(0))
            )
    for m in age_parser._NOT_OVER_RX.finditer(text):
        v = int(m.group(1))
        if 8 <= v < age_parser.ADULT_AGE and not age_parser._counts_something(
            text, m.end(), age_parser._UNDER_NOT_UNITS
        ):
            found.append(
                age_parser.AgeMention(max(0, v - 4), v, m.start(), m.end(), "under", m.group(0))
            )
    for m in age_parser._NOT_YET_RX.finditer(text):
        found.append(age_parser.AgeMention(13, 17, m.start(), m.end(), "range", m.group(0)))
    for m in age_parser._AGE_BOUND_RX.finditer(text):
        v = int(m.group(1))
        if 8 <= v < age_parser.ADULT_AGE and not age_parser._counts_something(text, m.end()):
            found.append(
                age_parser.AgeMention(max(0, v - 4), v - 1, m.start(), m.end(), "range", m.group(0))
            )
    for m in age_parser._PRONOUN_AGE_RX.finditer(text):
        v = int(m.group(1))
        if 5 <= v < 30 and not age_parser._counts_something(text, m.end()):
            found.append(age_parser.AgeMention(v, v, m.start(), m.end(), "age", m.group(0)))
    for m in age_parser._FEMALE_RX.finditer(text):
        v = int(m.group(1))
        found.append(age_parser.AgeMention(v, v, m.start(), m.end(), "age", m.group(0)))
    for m in age_parser._YEARS_RX.finditer(text):
        v = int(m.group(1))
        found.append(age_parser.AgeMention(v, v, m.start(), m.end(), "stated", m.group(0)))
    found.extend(age_parser._thai_word_ages(text))
    for m in age_parser._ROM_WORD_GRADE_RX.finditer(text):
        g = age_parser._ROM_NUMBERS[m.group(2)]
        a, b = age_parser._GRADE_PREFIX["m" if m.group(1) in ("mor", "mo", "m") else "ptm"]
        found.append(age_parser.AgeMention(g + a, g + b, m.start(), m.end(), "grade", m.group(0)))
    found.extend(age_parser._token_grades(text, tokens))
    return age_parser._without_overlaps(found)


_AGE_PIECES = [" ", "-", "1", "12", "๑๒", "12 to 14", "y", "o", "yo", " yo", " y o", "yrs", " old",
               "years old", "aged", "age of ", "อายุ", "สาว", "หนุ่ม", "น้อง ", "ขวบ", "khuap",
               "kuap", "twelve", "grade", "th grade", "grade 3", "th", "cm", "+", ".", "a", "ม",
               "ป", "u", "under ", " f", "ปี", "pi", "สาม", "mor ", "sam", "17", "she s ", "not yet ",
               "ไม่เกิน", "18", "วัย", "mai koen "]  # fmt: skip


def _tokens(text):
    return [Token(m.group(0), m.start(), m.end(), False) for m in re.finditer(r"\S+", text)]


def test_gated_scans_find_what_every_scan_finds_on_every_three_pieces():
    for text in map("".join, itertools.product(_AGE_PIECES, repeat=3)):
        tokens = _tokens(text)
        assert age_parser.parse_ages(text, tokens) == _parse_ages_without_gates(text, tokens), text


@given(st.lists(st.sampled_from(_AGE_PIECES), max_size=14).map("".join))
def test_gated_scans_find_what_every_scan_finds(text):
    tokens = _tokens(text)
    assert age_parser.parse_ages(text, tokens) == _parse_ages_without_gates(text, tokens)
