"""The C split into runs gives the tokens the Python tokeniser gives."""

from hypothesis import example, given, settings
from hypothesis import strategies as st

text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("เด็กนักเรียนคลิปหลุดม.2 ป5 \t\n\u00a0\u2003\u3000\x1c\x85abc_12.")),
        st.characters(),
    ),
    max_size=60,
)


@settings(max_examples=600, deadline=None)
@given(text)
@example("คลิปหลุด นักเรียน ม2 video_12.mp4")
@example("\u2003เด็ก\x1cabc\u0e7fx")
def test_c_runs_give_the_python_tokens(lexicon, text):
    tk = lexicon.tokenizer
    assert tk.tokenize(text) == tk.tokenize_py(text)


def test_memo_gives_the_same_tokens(lexicon):
    tk = lexicon.tokenizer
    text = "นักเรียนหญิง คลิป นักเรียนหญิง"
    assert tk.tokenize(text) == tk.tokenize(text) == tk.tokenize_py(text)
    assert "คลิป" in tk._memo
    assert [(t.text, t.start, t.end) for t in tk.tokenize(text)][1] == ("คลิป", 13, 17)
