"""Cutting run-together Latin tokens into lexicon terms (``ocsea.text.glued``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocsea.text.glued import GlueKey, cut_glued

CHILD = GlueKey(risky=False, child=True, sexual=False, weight=0.7)
WEAK_CHILD = GlueKey(risky=False, child=True, sexual=False, weight=0.4)
SEXUAL = GlueKey(risky=True, child=False, sexual=True, weight=0.7)
WEAK_SEXUAL = GlueKey(risky=True, child=False, sexual=True, weight=0.4)
STRONG = GlueKey(risky=True, child=False, sexual=True, weight=0.8)
ABBREV = GlueKey(risky=True, child=True, sexual=False, weight=0.6)
TRADE = GlueKey(risky=True, child=False, sexual=False, weight=0.7)
PLAIN = GlueKey(risky=False, child=False, sexual=False, weight=0.5)

KEYS = {
    "kid": CHILD, "kids": CHILD, "dek": CHILD, "nakrian": CHILD, "porn": SEXUAL,
    "strip": SEXUAL, "fuck": SEXUAL, "xxx": STRONG, "cp": ABBREV, "thai": PLAIN,
    "vids": PLAIN, "set": PLAIN, "nong": WEAK_CHILD, "son": WEAK_CHILD, "lak": TRADE,
    "hot": WEAK_SEXUAL, "child": CHILD, "yng": CHILD,
}  # fmt: skip
ENGLISH = {
    w: 1.0
    for w in ("trip", "kids", "kid", "strip", "brain", "me", "io", "phi", "vids", "eder",
              "pharyn", "geal")
}  # fmt: skip
WHOLE = frozenset({"dickson", "kidney"})


def cut(text: str) -> list[str]:
    return [text[a:b] for a, b in cut_glued(text, KEYS, ENGLISH, WHOLE)]


@pytest.mark.parametrize(
    ("token", "terms"),
    [
        ("kidsporn", ["kids", "porn"]),
        ("kidvids", ["kid", "vids"]),
        ("nakrianmexxx", ["nakrian", "xxx"]),  # an English word between
        ("cpthai", ["cp", "thai"]),  # a two-letter abbreviation among lexicon terms
        ("dekm", ["dek"]),  # one stray letter
        # "kids trip" reads as well as "kid strip": the reading without a risky term wins
        ("kidstrip", ["kids"]),
        ("cpio", []),  # a short abbreviation beside an English word is part of another word
        ("brainfuck", []),  # a cut is for finding a child: a sexual term beside English is not
        ("phiset", []),  # nothing a cut is worth making for
        ("dickson", []),  # an English word is never cut
        ("porn", []),  # a lexicon term is found whole, not here
        ("kidqqqqq", []),  # too many stray letters
        ("nonglak", []),  # an intent beside a weak child word is a name (Nonglak)
        ("ederson", []),  # a weak child word inside a name
        ("hotchild", ["child"]),  # a weak sexual word is not reported
        ("pharyngeal", []),  # a three-letter child term in the middle of a word
    ],
)
def test_cuts(token: str, terms: list[str]) -> None:
    assert cut(token) == terms


def test_shipped_lexicon_finds_terms_run_together(lexicon) -> None:
    from ocsea.text.analysis import analyze

    found = {(m.entry.term, m.kind) for m in analyze("kidsporn_cpthai.zip", lexicon).matches}
    assert {("kids", "glued"), ("porn", "glued"), ("cp", "glued"), ("thai", "glued")} <= found
    everyday = analyze("cpio archive brainfuck interpreter kidstrip", lexicon).matches
    assert {(m.entry.term, m.kind) for m in everyday if m.kind == "glued"} == {("kids", "glued")}


@given(st.text(alphabet="abcdeiknoprstxy", max_size=30))
def test_spans_are_ordered_keys_inside_the_token(token: str) -> None:
    spans = cut_glued(token, KEYS, ENGLISH, WHOLE)
    end = 0
    for a, b in spans:
        assert end <= a < b <= len(token)
        assert token[a:b] in KEYS
        end = b


PREFIXES = None


@given(st.text(alphabet="abcdeiknoprstxyhgv", min_size=4, max_size=40))
def test_the_prefix_shortcut_cuts_the_same(token: str) -> None:
    # a piece stops growing where no key or word begins with it: only work saved
    from ocsea.text.glued import piece_prefixes

    global PREFIXES
    PREFIXES = PREFIXES or piece_prefixes(KEYS, ENGLISH)
    assert cut_glued(token, KEYS, ENGLISH, WHOLE, PREFIXES) == cut_glued(
        token, KEYS, ENGLISH, WHOLE
    )


def test_the_prefix_shortcut_cuts_the_same_with_the_shipped_lexicon(lexicon) -> None:
    from ocsea.text.glued import english_words, piece_prefixes

    keys = lexicon._glue_keys
    prefixes = piece_prefixes(keys, english_words())
    for token in ["kidsporn", "nakrianmexxx", "leakorpaygradeschoolermovie", "cpvidsthai",
                  "swapsnuditymegalinks", "comicstripallergy", "dekmthreeclip"]:  # fmt: skip
        assert cut_glued(token, keys, prefixes=prefixes) == cut_glued(token, keys), token


def test_warming_the_lexicon_loads_what_a_first_cut_would(lexicon) -> None:
    # the service warms it at start, so its first query with a run-together token is not slow
    lexicon.warm()
    assert lexicon._glue_prefixes is not None and "kid" in lexicon._glue_prefixes
