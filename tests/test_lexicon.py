import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocsea.text.lexicon import CATEGORIES, LexiconError, default_lexicon_entries, read_lexicon_file
from ocsea.text.normalize import normalize

HEADER = "term\tlang\tcategory\tweight\tcanonical\tsource\n"


def matches(lexicon, raw):
    toks = lexicon.tokenizer.tokenize(normalize(raw))
    return {(m.entry.term, m.entry.category, m.kind) for m in lexicon.match(toks)}


def test_every_term_has_a_source_and_known_category():
    entries = default_lexicon_entries()
    assert len(entries) > 300
    assert all(e.source for e in entries)
    assert {e.category for e in entries} <= set(CATEGORIES)
    assert all(e.canonical for e in entries if e.lang == "th-Latn")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("x\ten\tminor\t0.5\t\t\n", "'source' is empty"),
        ("x\ten\tnope\t0.5\t\ta\n", "'category'"),
        ("x\tfr\tminor\t0.5\t\ta\n", "'lang'"),
        ("x\ten\tminor\theavy\t\ta\n", "'weight' is not a number"),
        ("x\ten\tminor\n", "expected 6 fields"),
    ],
)
def test_bad_rows_name_file_line_and_field(tmp_path, body, message):
    p = tmp_path / "overlay.tsv"
    p.write_text(HEADER + body, encoding="utf-8")
    with pytest.raises(LexiconError, match=rf"overlay.tsv:2: .*{message}"):
        read_lexicon_file(p)


def test_bad_header(tmp_path):
    p = tmp_path / "x.tsv"
    p.write_text("a\tb\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"x\.tsv:1"):
        read_lexicon_file(p)


def test_exact_skeleton_compound_and_glued_codewords(lexicon):
    assert ("เด็ก", "minor", "skeleton") in matches(lexicon, "เด้ก")  # misspelt tone mark
    assert ("เปลือย", "sexual", "compound") in matches(lexicon, "ภาพเปลือย")
    assert ("pthc", "csa_code", "substring") in matches(lexicon, "newpthcvid")
    assert ("dek ying", "minor", "exact") in matches(lexicon, "dek ying")


def test_benign_sense_cancels_what_it_contains(lexicon):
    found = matches(lexicon, "nude lipstick")
    assert ("nude lipstick", "benign_sense", "exact") in found
    assert not any(c == "sexual" for _, c, _ in found)


def test_a_benign_sense_inside_a_longer_term_is_no_benign_sense(lexicon):
    found = matches(lexicon, "ให้ค่าขนม")  # giving pocket money: "ขนม" (a snack) is inside
    assert ("ให้ค่าขนม", "solicit", "exact") in found
    assert not any(c == "benign_sense" for _, c, _ in found)


def test_short_thai_words_match_another_tone_mark_only_when_sexual(lexicon):
    # "ป่า" is a forest: neither "ป้า" (an aunt) nor "ป๋า" (a sugar daddy)
    assert not matches(lexicon, "ป่า")
    assert ("ป๋า", "solicit", "exact") in matches(lexicon, "ป๋า")


def test_no_codeword_inside_ordinary_words(lexicon):
    assert not any(c == "csa_code" for _, c, _ in matches(lexicon, "torpedo pedometer"))
    assert not any(c == "sexual" for _, c, _ in matches(lexicon, "ขนม นมัสการ"))


_MATCH_PIECES = ["เด็ก", "นักเรียน", "หญิง", "คลิป", "หลุด", "ม", "2", "ป", "5", " ", "pthc", "cp",
                 "little", "girl", "nude", "lipstick", "newpthcvid", "ภาพเปลือย", "เด็้ก", "loli",
                 "video", "sex", "teen", "kid", "xxx", "mor", "dek", "นม", "สาว"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_MATCH_PIECES), max_size=12).map("".join))
def test_c_match_loop_gives_the_python_matches(lexicon, raw):
    tokens = lexicon.tokenizer.tokenize(normalize(raw))
    assert lexicon.match(tokens) == lexicon.match_py(tokens)


def test_c_match_loop_takes_only_named_tuples(lexicon):
    with pytest.raises(TypeError, match="named tuple"):
        lexicon.match([object()])
    tokens = lexicon.tokenizer.tokenize("little girl")
    assert lexicon.match(tuple(tokens)) == lexicon.match(tokens) != []


def test_a_canonical_spelling_does_not_hide_the_terms_inside_it(lexicon):
    """ "คลิปเย็ด" is only the canonical of romanised terms: cut as one word it hid "เย็ด"."""
    from ocsea.text.analysis import analyze

    found = {m.entry.category for m in analyze("คลิปเย็ด เด็ก 12 ขวบ", lexicon).matches}
    assert "sexual" in found
