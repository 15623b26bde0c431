import pytest

from ocsea.text.ages import parse_ages
from ocsea.text.lexicon import Lexicon
from ocsea.text.normalize import normalize


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
        ("dek 5 khuap", [(5, 5)]),
        ("สาว 19", [(19, 19)]),
        ("22yo", [(22, 22)]),
    ],
)
def test_parses(lex, raw, want):
    assert ages(lex, raw) == want


@pytest.mark.parametrize(
    "raw",
    ["18+ only", "2024 video", "1080p", "iphone 15", "รูป5ใบ", "ราคา 120 บาท", "size 10", "m2 area"],
)
def test_no_false_ages(lex, raw):
    assert ages(lex, raw) == []


def test_adult_age_flags(lex):
    text = normalize("สาว 19")
    (a,) = parse_ages(text, lex.tokenizer.tokenize(text))
    assert a.adult and not a.minor
