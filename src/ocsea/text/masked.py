"""Letters masked with an asterisk ("s*x", "p*rn", "n*de"): the one term a masked word can be,
put back before normalisation.

Why: the normaliser reads "*" as a separator, so "d*k pr@th0m s*x" became "d k prathom s x" and
lost every term (blind dev, rounds 9-18: four csa texts masked this way, no benign or adult text
with a masked letter). Only the few words people mask to get past a filter are filled in
(``TARGETS``), only where exactly one of them fits letter for letter, the asterisks inside the
word, and never in a text with "=" (code and maths: "y = s*x"); one character stands for one, so
every span still maps to the original. A review of a first version that filled any child,
codeword or sexual term found "baby*" read as a codeword, "d**n" and "d*ck" as Thai and sexual
words, "x*x" as "xxx", and "f*ck" left alone only by luck."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# A word of Latin letters with one or two asterisks inside it (never first or last), 3-10
# characters.
_MASKED = re.compile(r"(?<![A-Za-z*])(?=[A-Za-z*]{3,10}(?![A-Za-z*]))[A-Za-z]+\*[A-Za-z*]*[A-Za-z]")
# What a masked word may become: the sexual words, child words and codewords people mask.
TARGETS = frozenset(
    ["sex", "sexy", "porn", "porno", "nude", "nudes", "naked", "dek", "loli", "lolicon", "pthc", "preteen", "child", "children"]
)  # fmt: skip
MAX_STARS = 2


def masked_terms(terms: Iterable[str]) -> dict[int, tuple[str, ...]]:
    """The terms a masked word may become, by length: those of ``terms`` among ``TARGETS``."""
    by_len: dict[int, set[str]] = {}
    for t in terms:
        if t in TARGETS:
            by_len.setdefault(len(t), set()).add(t)
    return {n: tuple(sorted(ts)) for n, ts in by_len.items()}


def unmask(text: str, terms: Mapping[int, tuple[str, ...]]) -> str:
    """``text`` with each masked word that fits exactly one term filled in with it."""
    if "*" not in text or "=" in text:
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
