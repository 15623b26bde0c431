"""Words run together in one Latin token ("kidvids", "cpthai", "nakrianmexxx" once spread-out
letters are joined): the cheapest cut into lexicon terms and common English words.

A cut is believed only where the token has no better reading without risky words: "kidstrip"
reads as well as "kids trip" as "kid strip", so only "kids" is evidence there; a token that is
itself a common English word ("dickson", "sussex", "classmate") is never cut. The English words
are the 40,000 most frequent of ``wordfreq`` (Apache-2.0 code; its data CC BY-SA 4.0), loaded
at the first token that needs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import NamedTuple

# Tokens shorter than this are not cut, nor longer than this (a run of words that long is no
# filename's or query's, and the cut's work grows with the length).
MIN_GLUED = 4
MAX_GLUED = 48
# The longest piece tried at any position (the lexicon's longest Latin single-word keys).
MAX_PIECE = 24
# What a letter no word covers costs, against 1 for a word: a cut may leave a stray letter
# ("eporn"), never a piece of a word ("titan" is not "tit" + "an").
UNKNOWN = 2.5
ENGLISH_WORDS = 40_000
# A token among this many English words is a word, never cut ("isan", "dickson").
ENGLISH_WHOLE = 100_000


class GlueKey(NamedTuple):
    """What a Latin lexicon key may do in a cut."""

    risky: bool  # sexual, codeword, abbreviation or exploitation intent
    child: bool  # a child, grade, codeword or abbreviation term
    sexual: bool
    strong: bool  # risky even when short and beside English words ("xxx", "sex")


# What an English word costs beyond 1, at the rarest of the list; a lexicon term costs 1. A
# rare word is a worse reason to cut there: "nakrian|me|xxx", not "nakrian|mex|xx".
RARITY = 0.8
# What a two-letter English word costs more: "dek|m", not "de|km".
SHORT = 1.0
# How much cheaper a cut through a risky term must be than the best cut without one.
MARGIN = 0.5


@lru_cache(maxsize=1)
def english_whole() -> frozenset[str]:
    from wordfreq import top_n_list

    return frozenset(top_n_list("en", ENGLISH_WHOLE))


@lru_cache(maxsize=1)
def english_words() -> dict[str, float]:
    """The most frequent English words, letters only, each with what it costs as a piece (a
    top-40k word is zipf >= 2.74)."""
    from wordfreq import top_n_list

    words = [w for w in top_n_list("en", ENGLISH_WORDS) if w.isascii() and w.isalpha()]
    return {
        w: 1.0 + RARITY * rank / len(words) + (SHORT if len(w) < 3 else 0.0)
        for rank, w in enumerate(words)
    }


def _best(text: str, keys: Mapping[str, GlueKey], english: Mapping[str, float], risky_ok: bool
          ) -> tuple[float, list[tuple[int, int, bool]]]:  # fmt: skip
    """Lowest-cost cover of ``text`` by words (and stray letters at ``UNKNOWN`` each); the
    pieces as (start, end, is_word). Without ``risky_ok`` no risky lexicon term is used."""
    n = len(text)
    cost = [0.0] + [float("inf")] * n
    back: list[tuple[int, bool]] = [(0, False)] * (n + 1)
    for i in range(n):
        c = cost[i]
        if c == float("inf"):
            continue
        if c + UNKNOWN < cost[i + 1]:
            cost[i + 1], back[i + 1] = c + UNKNOWN, (i, False)
        for j in range(i + 2, min(n, i + MAX_PIECE) + 1):
            piece = text[i:j]
            key = keys.get(piece)
            if key is None:
                w = english.get(piece)
                if w is None:
                    continue
            elif key.risky and not risky_ok:
                continue
            else:
                w = 1.0
            if c + w < cost[j]:
                cost[j], back[j] = c + w, (i, True)
    pieces: list[tuple[int, int, bool]] = []
    j = n
    while j > 0:
        i, word = back[j]
        pieces.append((i, j, word))
        j = i
    pieces.reverse()
    return cost[n], pieces


def cut_glued(
    text: str,
    keys: Mapping[str, GlueKey],
    english: Mapping[str, float] | None = None,
    whole: frozenset[str] | None = None,
) -> list[tuple[int, int]]:
    """The lexicon terms inside a run-together token, as (start, end) spans; none where the
    token is a word itself or no cut is good enough."""
    if not MIN_GLUED <= len(text) <= MAX_GLUED or not text.isascii() or not text.isalpha():
        return []
    if text in keys:
        return []
    if text in (english_whole() if whole is None else whole):
        return []
    english = english_words() if english is None else english
    cost, pieces = _best(text, keys, english, True)
    safe_cost, safe = _best(text, keys, english, False)
    if safe_cost <= cost + MARGIN:
        pieces = safe
    stray = sum(b - a for a, b, word in pieces if not word)
    if len(pieces) < 2 or stray > max(1, len(text) // 6):
        return []
    terms = [(a, b, keys[text[a:b]]) for a, b, word in pieces if word and text[a:b] in keys]
    all_terms = len(terms) == len(pieces)
    # Worth a cut: a child, grade, codeword or abbreviation term of three letters or more, or a
    # shorter one or a sexual term among lexicon terms only ("cp|thai", "sex|toys"; never
    # "cp|io" of "cpio" or "brain|fuck": a cut is for finding the child beside the rest).
    if not any((k.child and b - a >= 3) or (all_terms and (k.child or k.sexual))
               for a, b, k in terms):  # fmt: skip
        return []
    # A short risky term beside an English word or a stray letter is a piece of another word
    # ("rtcp", "lojban"); "xxx" and "sex" are not.
    if not all_terms and any(k.risky and not k.strong and b - a <= 3 for a, b, k in terms):
        return []
    return [(a, b) for a, b, _ in terms]
