"""The C normaliser gives what the Python stages give, text and span map, on any text it takes;
it takes all text of ASCII and Thai, and text whose other characters fold to ASCII or Thai."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ocsea.text import _fast_normalize
from ocsea.text.normalize import (
    _CONTROL_RX,
    _SPACE_RX,
    normalize,
    normalize_with_map,
    normalize_with_map_py,
)

from .test_normalize import CASES

# What the C stages take: ASCII, Thai, and the invisible and space characters removed or replaced
# before anything else.
_CONTROLS = "\x00\x08\x0b\x1f\x7f\x85\x9f\u00ad\u034f\u061c\u115f\u180e\u200b\u200d\u200f\u202a\u2060\u206f\u3164\ufe0f\ufeff\uffa0"
_SPACES = "\t\n\r\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000"


def _taken(text):
    return all(
        c.isascii() or "\u0e00" <= c <= "\u0e7f" or _CONTROL_RX.match(c) or _SPACE_RX.match(c)
        for c in text
    )


ascii_thai = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0, max_codepoint=0x7F),
        st.characters(min_codepoint=0x0E00, max_codepoint=0x0E7F),
        st.sampled_from(_CONTROLS + _SPACES),
    ),
    max_size=60,
)
# Pieces the stages act on: spread-out and dotted letters, glued numbers and units, leet, camel
# case, repeated letters and marks, Thai joined by punctuation, doubled SARA E.
_PIECES = ["a", "b", "x", "A", "B", "p", " ", ".", "-", "_", "*", "~", "+", "1", "12", "0", "3",
           "@", "$", "!", "|", "yo", "xxxx", "aaa", "ค", "ลิ", "ป", "เ", "เเ", "็", "่่", "ๆ", "ะ",
           "ำ", "๕", "ฃ", " . ", "\u200b", "\u00a0", "Ab", "ABc", "ก", "ข", "ไก่", "/", "(", ")"]  # fmt: skip
pieces = st.lists(st.sampled_from(_PIECES), max_size=24).map("".join)


def _same_as_python(text):
    fast = _fast_normalize.normalize_with_map(text)
    ref = normalize_with_map_py(text)
    if fast is None:
        assert not _taken(text)
        return
    assert fast == (ref.text, ref.starts, ref.ends)


@settings(max_examples=1500, deadline=None)
@given(pieces)
@example("p.t.h.c")
@example("ค ลิ ป นัก")
def test_c_stages_equal_python_stages_on_composed_text(text):
    _same_as_python(text)


@settings(max_examples=1000, deadline=None)
@given(ascii_thai)
def test_c_stages_equal_python_stages_on_ascii_and_thai(text):
    _same_as_python(text)


@settings(max_examples=1500, deadline=None)
@given(st.text(max_size=40))
def test_c_stages_on_any_text(text):
    _same_as_python(text)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_PIECES), st.characters()), max_size=24).map("".join))
def test_c_stages_on_composed_text_with_any_characters(text):
    _same_as_python(text)


def test_c_stages_take_look_alikes_and_leave_what_does_not_fold():
    for text in ("ⓟⓣⓗⓒ", "рthс", "ｐｔｈｃ", "p̷t̷h̷c̷", "㎒ ﬁle", "a\u0301"):
        assert _fast_normalize.normalize_with_map(text) is not None, text
    for text in ("Ω", "ß", "日本", "ﷺ x", "\U0001f600 x"):
        assert _fast_normalize.normalize_with_map(text) is None, text


def test_c_stages_on_the_normaliser_examples():
    for raw, want in CASES:
        _same_as_python(raw)
        assert normalize(raw) == want
        assert normalize_with_map(raw) == normalize_with_map_py(raw)


@pytest.mark.parametrize(
    "raw", ["A.A+", "p.t.h.c+", "x.y+ z", "A.B.C+", "a_b_c+", "a b c+", "A:A:0+"]
)
def test_a_plus_after_dotted_or_spread_letters_is_read_as_in_python(raw):
    # The '+' rule of spread-out leet letters ("a a 0+" stays) once leaked into every spread
    # of single letters in C: "p.t.h.c+" became "pth c" there and "pthc" in Python (found by
    # Hypothesis, test_normalize's traced path against the C one).
    _same_as_python(raw)
