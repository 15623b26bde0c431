"""One pass of analysis over a text: normalise, tokenise, match the lexicon, parse ages."""

from __future__ import annotations

from ocsea.text.ages import AgeMention, has_bare_age_range, parse_ages
from ocsea.text.features import Evidence, summarise
from ocsea.text.lexicon import SENSES, Lexicon, Match
from ocsea.text.normalize import Normalized, Traced, normalize_for_analysis
from ocsea.text.tokenize import Token

MAX_TEXT_CHARS = 10_000  # longer input is analysed up to this length (and says so in its verdict)


class Analysis:
    """What one text is made of. The span map back to the original is built only when a reason
    needs it: most texts have none, and the map costs more than the rest of normalisation."""

    __slots__ = (
        "_norm",
        "_traced",
        "ages",
        "evidence",
        "matches",
        "original",
        "text",
        "tokens",
        "truncated",
    )

    def __init__(self, original: str, lexicon: Lexicon) -> None:
        self.truncated = len(original) > MAX_TEXT_CHARS
        self.original = original[:MAX_TEXT_CHARS] if self.truncated else original
        # Masked letters filled in one for one: spans still map to the original.
        norm = normalize_for_analysis(lexicon.unmask(self.original))
        self._traced: Traced | None = norm if isinstance(norm, Traced) else None
        self._norm: Normalized | None = norm if isinstance(norm, Normalized) else None
        self.text = norm.text
        self.tokens: list[Token] = lexicon.tokenizer.tokenize(self.text)
        self.matches: list[Match] = lexicon.match(self.tokens)
        self.ages: list[AgeMention] = _outside_senses(
            parse_ages(self.text, self.tokens), self.matches
        )
        evidence = summarise(self.matches, self.ages)
        # Only the ages+trade rule reads a bare range, and only with a sale word and no child.
        if evidence.trade and not evidence.minor and has_bare_age_range(self.original):
            evidence = evidence._replace(bare_range=True)
        self.evidence: Evidence = evidence

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        if self.text == self.original:
            # Nothing changed, so the map is the identity (property-tested): true of half of
            # everyday Thai text, which then skips the map altogether.
            return (start, end) if start < end else (0, 0)
        if self._norm is None:
            assert self._traced is not None
            self._norm = self._traced.with_map()
        return self._norm.original_span(start, end)


def _outside_senses(ages: list[AgeMention], matches: list[Match]) -> list[AgeMention]:
    """The ages not inside a benign or plain sense: a sense drops the words inside it, and an
    age word is one of them ("Baby Panda Nursery" names no nursery-age child; blind round-16
    dev)."""
    if not ages:
        return ages
    senses = [(m.start, m.end) for m in matches if m.entry.category in SENSES]
    if not senses:
        return ages
    return [a for a in ages if not any(s <= a.start and a.end <= e for s, e in senses)]


def analyze(text: str, lexicon: Lexicon) -> Analysis:
    return Analysis(text, lexicon)
