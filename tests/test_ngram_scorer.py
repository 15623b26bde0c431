"""The C n-gram scorer gives what the Python reference gives: ``ngrams`` + ``probs`` +
``top_csa_features``."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocsea.text._ngram_scorer import NgramScorer
from ocsea.text.corpus import CorpusGenerator
from ocsea.text.features import DENSE_NAMES, MAX_FEATURE_CHARS, MAX_WORD_TOKENS, ngrams
from ocsea.text.model import LinearModel
from ocsea.text.tokenize import Token

# A small alphabet, so that random texts hit a random vocabulary often: Latin, Thai, a character
# outside the BMP (its n-grams go through the fallback dict), NUL, and the word-feature prefix.
ALPHABET = "ab =wก\U0001f600\x00"


def reference(model, text, tokens, dense, k=3):
    grams = ngrams(text, tokens)
    return model.probs(grams, dense), model.top_csa_features(grams, k)


def assert_same(got, want):
    (p1, top1), (p2, top2) = got, want
    assert p1 == pytest.approx(p2, rel=1e-9, abs=1e-12)
    assert [g for g, _ in top1] == [g for g, _ in top2]
    assert [w for _, w in top1] == pytest.approx([w for _, w in top2], rel=1e-9)


def as_tokens(words):
    return [Token(w, 0, len(w), False) for w in words]


@st.composite
def models(draw):
    grams = draw(
        st.lists(
            st.one_of(
                st.text(ALPHABET, min_size=1, max_size=5),
                st.text(ALPHABET, min_size=1, max_size=4).map(lambda w: "w=" + w),
            ),
            min_size=1,
            max_size=40,
            unique=True,
        )
    )
    n = len(grams) + len(DENSE_NAMES)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(3, n)).astype(np.float32)
    # Ties in the pull towards csa, to check the order of the reason's n-grams.
    if draw(st.booleans()):
        weights[:, : len(grams)] = np.round(weights[:, : len(grams)])
    return LinearModel({g: j for j, g in enumerate(grams)}, weights, rng.normal(size=3))


@given(
    models(),
    st.text(ALPHABET, max_size=60),
    st.lists(st.text(ALPHABET, min_size=1, max_size=4), max_size=8),
    st.lists(st.floats(0, 1), min_size=len(DENSE_NAMES), max_size=len(DENSE_NAMES)),
    st.integers(0, 5),
)
def test_c_scorer_equals_reference(model, text, words, dense, k):
    tokens = as_tokens(words)
    assert_same(model.score_text(text, tokens, dense, k), reference(model, text, tokens, dense, k))


def test_c_scorer_equals_reference_on_the_default_model(detector):
    gen = CorpusGenerator(seed=11)
    model, lexicon = detector.model, detector.lexicon
    dense = [0.0] * len(DENSE_NAMES)
    for i in range(600):
        text = gen.example(("benign", "adult", "csa")[i % 3]).text
        tokens = lexicon.tokenizer.tokenize(text)
        assert_same(model.score_text(text, tokens, dense), reference(model, text, tokens, dense))


def test_c_scorer_keeps_the_feature_limits(detector):
    model = detector.model
    text = "lolita " * (MAX_FEATURE_CHARS // 3)
    tokens = as_tokens(["pthc"] * (MAX_WORD_TOKENS + 50))
    dense = [0.0] * len(DENSE_NAMES)
    assert_same(model.score_text(text, tokens, dense), reference(model, text, tokens, dense))


def test_c_scorer_sums_each_ngram_once():
    # "ab" occurs three times and "w=ab" is both a 4-gram and a word: each counts once.
    scorer = NgramScorer({"ab": 0, "w=ab": 1}, [1.0, 10.0], [2.0, 20.0], [1.0, 2.0])
    sre, sim, n, top = scorer.score(" ab ab w=ab ", ["ab", "ab"], 3)
    assert (sre, sim, n, top) == (11.0, 22.0, 2, [1, 0])
    assert scorer.score(" xyz ", [], 3) == (0.0, 0.0, 0, [])


def test_c_scorer_rejects_bad_tables():
    with pytest.raises(ValueError, match="one weight per n-gram"):
        NgramScorer({"ab": 0}, [1.0, 2.0], [1.0], [1.0])
    with pytest.raises(ValueError, match="outside"):
        NgramScorer({"ab": 3}, [1.0], [1.0], [1.0])
    with pytest.raises(ValueError, match="n-gram lengths"):
        NgramScorer({"ab": 0}, [1.0], [1.0], [1.0], 2, 5)


def test_c_scorer_handles_long_texts_beyond_its_stack_buffer():
    grams = {f"{chr(0x4E00 + i)}{chr(0x4E00 + i + 1)}": i for i in range(3000)}
    scorer = NgramScorer(grams, np.ones(3000), np.zeros(3000), np.arange(3000, dtype=float))
    text = "".join(chr(0x4E00 + i) for i in range(3001))
    sre, _, n, top = scorer.score(text, [], 3)
    assert (sre, n, top) == (3000.0, 3000, [2999, 2998, 2997])
    assert math.isfinite(sre)


def test_c_probabilities_need_the_linear_part():
    scorer = NgramScorer({"ab": 0}, [1.0], [1.0], [1.0])
    with pytest.raises(ValueError, match="set_linear first"):
        scorer.probs(" ab ", [], [])
    with pytest.raises(ValueError, match="temperature"):
        scorer.set_linear(0.0, 0.0, [1.0], [1.0], 0.0)
    scorer.set_linear(0.5, -0.5, [1.0], [2.0], 1.0)
    with pytest.raises(ValueError, match="1 dense features are needed, got 2"):
        scorer.probs(" ab ", [], [1.0, 1.0])
    p, n, top = scorer.probs(" ab ", [], [1.0])
    z = (0.5 + 1.0 + 1.0, -0.5 + 1.0 + 2.0, 0.0)
    e = [math.exp(x - max(z)) for x in z]
    assert p == pytest.approx([x / sum(e) for x in e], rel=1e-12)
    assert (n, top) == (1, [0])


def test_c_text_scoring_needs_its_features():
    scorer = NgramScorer({"ab": 0}, [1.0], [1.0], [1.0])
    scorer.set_linear(0.0, 0.0, [1.0], [1.0], 1.0)
    with pytest.raises(ValueError, match="set_text_features first"):
        scorer.score_text("ab", [], [0.0])
    with pytest.raises(ValueError, match="one name per n-gram"):
        scorer.set_text_features(["ab", "cd"], 10, 10)
    with pytest.raises(ValueError, match="negative"):
        scorer.set_text_features(["ab"], -1, 10)
    scorer.set_text_features(["ab"], 1, 0)  # "ab" cut to "a": no n-gram left
    p, tops = scorer.score_text("ab", as_tokens(["ab"]), [0.0])
    assert (p, tops) == ([1 / 3, 1 / 3, 1 / 3], [])
    scorer.set_text_features(["ab"], 2, 0)
    assert scorer.score_text("ab", [], [0.0])[1] == [("ab", 1.0)]
