"""The synthetic corpus: deterministic, and local to what a lexicon edit touches."""

from __future__ import annotations

from ocsea.text.corpus import CorpusGenerator
from ocsea.text.lexicon import default_lexicon_entries


def test_same_seed_same_corpus() -> None:
    assert CorpusGenerator(seed=3).generate(500) == CorpusGenerator(seed=3).generate(500)


def test_a_term_taken_out_changes_only_the_examples_that_drew_it() -> None:
    # One shared random stream made every lexicon edit a new corpus (each rebuilt model moved
    # blind items either way by chance); each example now has its own generator.
    entries = list(default_lexicon_entries())
    base = CorpusGenerator(seed=3, entries=entries).generate(1000)
    fewer = CorpusGenerator(seed=3, entries=[e for e in entries if e.term != "fucking"]).generate(
        1000
    )
    changed = [a for a, b in zip(base, fewer, strict=True) if a.text != b.text]
    assert changed, "the term was drawn somewhere"
    # Examples that drew from the English sexual words' list draw another word from it (an
    # eighth of the corpus for this common word); every other example is as it was.
    assert len(changed) < 0.2 * len(base)
