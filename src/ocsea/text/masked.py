"""Letters masked with an asterisk ("s*x", "p*rn", "n*de"): the one lexicon term a masked word
can be, put back before normalisation.

Why: the normaliser reads "*" as a separator, so "d*k pr@th0m s*x" became "d k prathom s x" and
lost every term (blind dev, rounds 9-18: four csa texts masked this way, no benign or adult text
with a masked letter). A masked word is filled in only where exactly one term of a child,
codeword or sexual category fits it letter for letter, never with profanity ("f*ck" stays as it
is: an intensifier beside "kids" is no sexual evidence), and one character stands for one, so
every span of the text still maps to the original."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# A word of Latin letters with one or two asterisks inside or at its end, 3-10 characters.
_MASKED = re.compile(r"(?<![A-Za-z*])(?=[A-Za-z*]{3,10}(?![A-Za-z*]))[A-Za-z]+\*[A-Za-z*]*")
# Categories a masked word may be filled in from.
CATEGORIES = frozenset(["sexual", "csa_code", "abbrev", "minor"])
# Masked profanity is everyday emphasis: never filled in.
_PROFANITY = frozenset(["fuck", "fucks", "fucked", "fucker", "fuckers", "fucking", "shit"])
MAX_STARS = 2


def masked_terms(terms: Iterable[str]) -> dict[int, tuple[str, ...]]:
    """The terms a masked word may become, by length: single ASCII words, no profanity."""
    by_len: dict[int, set[str]] = {}
    for t in terms:
        if t.isascii() and t.isalpha() and 3 <= len(t) <= 10 and t not in _PROFANITY:
            by_len.setdefault(len(t), set()).add(t)
    return {n: tuple(sorted(ts)) for n, ts in by_len.items()}


def unmask(text: str, terms: Mapping[int, tuple[str, ...]]) -> str:
    """``text`` with each masked word that fits exactly one term filled in with it."""
    if "*" not in text:
        return text
    return _MASKED.sub(lambda m: _fill(m.group(0), terms), text)


def _fill(word: str, terms: Mapping[int, tuple[str, ...]]) -> str:
    stars = word.count("*")
    if stars > MAX_STARS or len(word) - stars < 2:
        return word
    low = word.lower()
    fits = [t for t in terms.get(len(word), ()) if _fits(low, t)]
    if len(fits) != 1:
        return word
    return "".join(t if c == "*" else c for c, t in zip(word, fits[0], strict=True))


def _fits(masked: str, term: str) -> bool:
    return all(c == "*" or c == t for c, t in zip(masked, term, strict=True))
