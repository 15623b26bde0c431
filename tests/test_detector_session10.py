"""What the tenth session changed in the detector.

Keyword-level texts written for this test (not copied from the blind set)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

# A term of two words run together with the rest of a token: the cut finds its words side by
# side, and the phrase names a child where its words alone do not (blind round-13 dev kind).
CSA = [
    "littlegirlxxx.mp4",
    "youngboyporn",
    "xxxlittlegirl.avi",
]

NEW_TERMS = [
    # blind round-18 dev kinds (texts written here): a P2P keyword beside a set, the threat to
    # spread a child's pictures
    "nymphets pack 2",
    "ขู่แพร่คลิป ป.6",
]

# Run-together tokens whose pieces make no risky phrase, and phrases in everyday names.
BENIGN = [
    # a review found these csa or hidden when a run-together child phrase counted alone: a
    # rapper's name, dress shops, camera reviews, a weaker phrase over a stronger word
    "youngboy booking price",
    "youngboy never broke again livestream",
    "littlegirls hot pink dresses sale",
    "kidshiddencamera review",
    "babyhiddencamera",
    "nymphet lolita nabokov essay",
    # a review found these csa or adult with the round-18 rows it took out: TNN and CNN in Thai
    # script, cooking videos, fans' pair names, a nickname, a shell command, a dictionary query
    "ทีเอ็นเอ็น คลิป",
    "ซีเอ็นเอ็น วิดีโอ",
    "caldo de pollo video",
    "caldo de pollo for kids",
    "Nung x Bas school",
    "khu prae nong",
    "ls magazine/",
    "what is a nymphet",
    # a school word beside "available" or "live" is no child for the model to go on
    "geometry tools available in school kits",
    "school timetable available online",
    "littlegirlsdresses.jpg",
    "youngboysoccer.mp4",
    "littlegirl_birthday_party.mp4",
    "youngboy_swimming_lesson.mov",
]


# Letters masked with an asterisk (blind dev kind, rounds 9-18): filled in where one of the few
# words people mask fits, never profanity, wildcards or maths; spans point at the masked word.
MASKED_CSA = ["s*x 13 yo", "d*k pr@th0m s*x", "ch!ld_p*rn_pack.rar", "schoolgirl n*de age 14"]
MASKED_NOT_CSA = [
    "f*cking kids are loud",
    "*.mp4 files for kids",
    "a*b testing for kids app",
    # a review found these filled in by a first version: wildcards, insults, maths
    "baby* photos",
    "child* tickets under 12",
    "d**n kids",
    "my kids teacher is a d*ck",
    "x*x kids math worksheet",
    "y = s*x + b kids",
    "rap* music kids",
]


# Profanity in exclamations and idioms is emphasis (plain senses: their own words are no
# evidence, the rest of the text still is). Texts written here.
EXCLAMATIONS = [
    "holy fuck my son scored a goal",
    "kids fucked up the lawn",
    "what the fuck grade 5 homework",
]
EXCLAMATION_HIDES_NOTHING = ["holy fuck 12yo porn", "what the fuck nude 13yo"]


@pytest.mark.parametrize("text", CSA)
def test_a_phrase_run_together_is_found(detector, text):
    v = detector.classify(text)
    assert v.label == "csa", (text, v.reasons)
    assert any(r.kind == "lexicon" and " " in r.term for r in v.reasons), v.reasons


@pytest.mark.parametrize("text", NEW_TERMS + EXCLAMATION_HIDES_NOTHING)
def test_this_sessions_terms_are_csa(detector, text):
    assert detector.classify(text).label == "csa"


@pytest.mark.parametrize("text", BENIGN + MASKED_NOT_CSA + EXCLAMATIONS)
def test_this_sessions_everyday_texts_are_not_csa(detector, text):
    assert detector.classify(text).label != "csa"


@pytest.mark.parametrize("text", ["onlyfansleak.mp4", "onlyfans leak", "jav thai"])
def test_a_weaker_phrase_does_not_hide_a_stronger_word(detector, text):
    """ "onlyfans leak" (0.4) inside "onlyfans" (0.8): both stay, and the text is adult."""
    assert detector.classify(text).label == "adult"


def test_only_pieces_side_by_side_beside_a_sexual_term_make_a_phrase(lexicon):
    """Pieces with a stray letter between them are no phrase, nor are two pieces alone."""
    assert lexicon._glued_phrases("littlexgirlxxx", [(0, 6), (7, 11), (11, 14)]) == []
    assert lexicon._glued_phrases("littlegirl", [(0, 6), (6, 10)]) == []
    joined = lexicon._glued_phrases("littlegirlxxx", [(0, 6), (6, 10), (10, 13)])
    assert joined and all(e.term == "little girl" and (a, b) == (0, 10) for e, a, b, *_ in joined)


@pytest.mark.parametrize("text", MASKED_CSA)
def test_masked_letters_are_filled_in(detector, text):
    v = detector.classify(text)
    assert v.label == "csa"
    masked = [r for r in v.reasons if r.span and "*" in text[r.span[0] : r.span[1]]]
    assert masked, v.reasons  # the reason shows the masked word as written


@given(st.text(alphabet="abcdefghiknoprstux*_ .1", max_size=30))
def test_unmasking_only_fills_asterisks(lexicon, text):
    out = lexicon.unmask(text)
    assert len(out) == len(text)
    assert all(a == b or a == "*" for a, b in zip(text, out, strict=True))
    assert "fuck" not in out.lower() or "fuck" in text.lower()


def test_a_masked_word_two_terms_fit_stays_masked():
    from ocsea.text.masked import unmask

    terms = {3: ("sax", "sex")}
    assert unmask("s*x", terms) == "s*x"
    assert unmask("s*x", {3: ("sex",)}) == "sex"
    assert unmask("se*", {3: ("sex",)}) == "se*"  # a wildcard at the end: "baby*"
    assert unmask("***", {3: ("sex",)}) == "***"  # no letters to go by
    assert unmask("y = s*x", {3: ("sex",)}) == "y = s*x"  # code and maths
