"""One pass of analysis over a text: normalise, tokenise, match the lexicon, parse ages."""

from __future__ import annotations

from dataclasses import dataclass

from ocsea.text.ages import AgeMention, parse_ages
from ocsea.text.features import Evidence, summarise
from ocsea.text.lexicon import Lexicon, Match
from ocsea.text.normalize import Normalized, normalize_with_map
from ocsea.text.tokenize import Token

MAX_TEXT_CHARS = 10_000  # longer input is analysed up to this length (and says so in its verdict)


@dataclass(frozen=True, slots=True)
class Analysis:
    norm: Normalized
    tokens: list[Token]
    matches: list[Match]
    ages: list[AgeMention]
    evidence: Evidence
    truncated: bool


def analyze(text: str, lexicon: Lexicon) -> Analysis:
    truncated = len(text) > MAX_TEXT_CHARS
    norm = normalize_with_map(text[:MAX_TEXT_CHARS] if truncated else text)
    tokens = lexicon.tokenizer.tokenize(norm.text)
    matches = lexicon.match(tokens)
    ages = parse_ages(norm.text, tokens)
    return Analysis(norm, tokens, matches, ages, summarise(matches, ages), truncated)
