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
        if (
            evidence.sexual
            and not evidence.media
            and _swearing(self.tokens, self.matches, self.ages)
        ):
            evidence = evidence._replace(swearing=True)
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


# English swear words that are also the sexual words of the lexicon (their spellings carry one
# of these as their canonical form), the words before them that make them emphasis ("my fucking
# toddler", "the fucking pool"), and what names clips or pictures besides the lexicon's media
# words (file extensions are hidden-camera cues there, not media).
SWEAR_WORDS = frozenset({"fuck", "fucking"})
_EMPHASIS_BEFORE = frozenset(
    {"the", "a", "my", "your", "his", "her", "our", "their", "this", "that", "these", "those",
     "so", "too"}
)  # fmt: skip
_CLIP_WORDS = frozenset(
    {"mp4", "avi", "mkv", "wmv", "mov", "flv", "webm", "mpg", "mpeg", "m4v", "3gp", "jpg", "jpeg",
     "png", "gif", "webp", "heic", "movie", "movies", "tape", "tapes", "หนัง"}
)  # fmt: skip
SWEARING_MIN_WORDS = 5


def _swearing(tokens: list[Token], matches: list[Match], ages: list[AgeMention]) -> bool:
    """The only sexual words are swear words used for emphasis, after a determiner or a
    possessive ("my fucking toddler bit the dog again today"), in a sentence of five words or
    more, with no age or grade given (in figures, words or a grade: a word for an age group such
    as "toddler" is no age given) and no clip or picture named. Not "fucked" (its everyday
    senses are plain senses already), and not a title or a file name ("fucking 12yo video",
    "fucking eleven year old girl", "fucking_toddler_new.avi"). Blind profanity dev part: 3 of its
    66 everyday texts were csa by this alone; an independent review's 50 risky probes (ages
    spelt out, grades in words, extensions, film words) stay csa."""
    if len(tokens) < SWEARING_MIN_WORDS:
        return False
    if any(a.kind != "group" for a in ages):
        return False
    if any(t.text in _CLIP_WORDS for t in tokens):
        return False
    at = {t.start: i for i, t in enumerate(tokens)}
    swore = False
    for m in matches:
        if m.entry.category != "sexual":
            continue
        if m.entry.term not in SWEAR_WORDS and m.entry.canonical not in SWEAR_WORDS:
            return False
        i = at.get(m.start)
        if not i or tokens[i - 1].text not in _EMPHASIS_BEFORE:
            return False
        swore = True
    return swore


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
