"""What the tenth session changed in the detector.

Keyword-level texts written for this test (not copied from the blind set)."""

from __future__ import annotations

import pytest

# A term of two words run together with the rest of a token: the cut finds its words side by
# side, and the phrase names a child where its words alone do not (blind round-13 dev kind).
CSA = [
    "littlegirlxxx.mp4",
    "youngboyporn",
    "xxxlittlegirl.avi",
]

NEW_TERMS = [
    # blind round-18 dev kinds (texts written here): codewords from public reporting, the
    # threat to spread a child's pictures, romanised หนังx, "NN" in Thai script
    "caldo de pollo links mega",
    "ls magazine full set rar",
    "nymphets pack 2",
    "khu pae klip dek m.1",
    "ขู่แพร่คลิป ป.6",
    "nung x nakrian m.2",
    "เอ็นเอ็น เด็ก ป.5 ลิงก์",
]

# Run-together tokens whose pieces make no risky phrase, and phrases in everyday names.
BENIGN = [
    "caldo de pollo recipe",
    "caldo de pollo receta facil",
    "nymphet lolita nabokov essay",
    "littlegirlsdresses.jpg",
    "youngboysoccer.mp4",
    "littlegirl_birthday_party.mp4",
    "youngboy_swimming_lesson.mov",
]


@pytest.mark.parametrize("text", CSA)
def test_a_phrase_run_together_is_found(detector, text):
    v = detector.classify(text)
    assert v.label == "csa", (text, v.reasons)
    assert any(r.kind == "lexicon" and " " in r.term for r in v.reasons), v.reasons


@pytest.mark.parametrize("text", NEW_TERMS)
def test_this_sessions_terms_are_csa(detector, text):
    assert detector.classify(text).label == "csa"


@pytest.mark.parametrize("text", BENIGN)
def test_run_together_everyday_names_are_not_csa(detector, text):
    assert detector.classify(text).label != "csa"


def test_only_pieces_side_by_side_make_a_phrase(lexicon):
    """Pieces with a stray letter between them are no phrase."""
    phrases = lexicon._glued_phrases("littlexgirl", [(0, 6), (7, 11)])
    assert phrases == []
    joined = lexicon._glued_phrases("littlegirl", [(0, 6), (6, 10)])
    assert joined and all(e.term == "little girl" and (a, b) == (0, 10) for e, a, b, *_ in joined)
