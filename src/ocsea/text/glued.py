"""Words run together in one Latin token ("kidvids", "cpthai", "nakrianmexxx" once spread-out
letters are joined): the cheapest cut into lexicon terms and common English words.

A cut is believed only where the token has no better reading without risky words: "kidstrip"
reads as well as "kids trip" as "kid strip", so only "kids" is evidence there; a token that is
itself a common English word ("dickson", "sussex", "classmate") is never cut. The English words
are the 40,000 most frequent of ``wordfreq`` (Apache-2.0 code; its data CC BY-SA 4.0), loaded
at the first token that needs them.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
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
# What an English word costs beyond 1, at the rarest of the list; a lexicon term costs 1. A
# rare word is a worse reason to cut there: "nakrian|me|xxx", not "nakrian|mex|xx".
RARITY = 0.8
# What a two-letter English word costs more: "dek|m", not "de|km".
SHORT = 1.0
# How much cheaper a cut through a risky term must be than the best cut without one.
MARGIN = 0.5


class GlueKey(NamedTuple):
    """What a Latin lexicon key may do in a cut."""

    risky: bool  # sexual, codeword, abbreviation or exploitation intent
    child: bool  # a child, grade, codeword or abbreviation term
    sexual: bool
    weight: float  # the strongest of its entries'


# What "cp" run together with names a collection ("cppack", "cpvids").
CP_PACK_WORDS = frozenset(["pack", "packs", "folder", "folders", "collection", "vids", "pics"])
CP_CLIP_WORDS = frozenset(["vids", "pics"])
# Two-letter English words that may stand between terms ("nakrian|me|xxx"): the list's other
# 500 two-letter strings are acronyms ("nt", "mg") that would cover any leftover letters.
SHORT_WORDS = frozenset(
    ["a", "i", "am", "an", "as", "at", "be", "by", "do", "go", "he", "if", "in", "is", "it", "me", "my", "no", "of", "on", "or", "so", "to", "up", "us", "we", "st", "nd", "rd", "th"]
)  # fmt: skip
# Weights of a strong child term and of a sexual term a cut may report (weaker ones, "son",
# "nong", "hot", sit inside names and words: "ederson", "nonglak", "hotchild").
STRONG = 0.7


@lru_cache(maxsize=1)
def english_whole() -> frozenset[str]:
    from wordfreq import top_n_list

    return frozenset(top_n_list("en", ENGLISH_WHOLE))


@lru_cache(maxsize=1)
def english_words() -> dict[str, float]:
    """The most frequent English words of three letters or more (and a few short function
    words), letters only, each with what it costs as a piece (a top-40k word is zipf >= 2.74)."""
    from wordfreq import top_n_list

    words = [w for w in top_n_list("en", ENGLISH_WORDS) if w.isascii() and w.isalpha()]
    return {
        w: 1.0 + RARITY * rank / len(words) + (SHORT if len(w) < 3 else 0.0)
        for rank, w in enumerate(words)
        if len(w) >= 3 or w in SHORT_WORDS
    }


def piece_prefixes(keys: Iterable[str], english: Iterable[str]) -> frozenset[str]:
    """Every beginning (two letters or more, shorter than ``MAX_PIECE``) of a lexicon key or an
    English word: a cut stops lengthening a piece that is none of them. 65k strings, 6 MB; the
    cuts of the benchmark's run-together tokens went 80 -> 33 µs each, the same cuts."""
    out: set[str] = set()
    for w in (*keys, *english):
        for k in range(2, min(len(w), MAX_PIECE)):
            out.add(w[:k])
    return frozenset(out)


def _best(text: str, keys: Mapping[str, GlueKey], english: Mapping[str, float], risky_ok: bool,
          prefixes: Container[str] | None = None) -> tuple[float, list[tuple[int, int, bool]]]:  # fmt: skip
    """Lowest-cost cover of ``text`` by words (and stray letters at ``UNKNOWN`` each); the
    pieces as (start, end, is_word). Without ``risky_ok`` no risky lexicon term is used.
    ``prefixes`` (``piece_prefixes`` of the same keys and words) only saves work."""
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
            elif key.risky and not risky_ok:
                w = None
            else:
                w = 1.0
            if w is not None and c + w < cost[j]:
                cost[j], back[j] = c + w, (i, True)
            if prefixes is not None and piece not in prefixes:
                break  # no longer piece begins so
    pieces: list[tuple[int, int, bool]] = []
    j = n
    while j > 0:
        i, word = back[j]
        pieces.append((i, j, word))
        j = i
    pieces.reverse()
    return cost[n], pieces


def _cp_then(text: str, pieces: list[tuple[int, int, bool]], words: frozenset[str]) -> bool:
    """Whether the cover is two words, "cp" and then one of ``words``."""
    return (
        len(pieces) == 2
        and all(word for _, _, word in pieces)
        and text[: pieces[0][1]] == "cp"
        and text[pieces[1][0] :] in words
    )


def cut_glued(
    text: str,
    keys: Mapping[str, GlueKey],
    english: Mapping[str, float] | None = None,
    whole: frozenset[str] | None = None,
    prefixes: Container[str] | None = None,
) -> list[tuple[int, int]]:
    """The lexicon terms inside a run-together token, as (start, end) spans; none where the
    token is a word itself or no cut is good enough. ``prefixes``: ``piece_prefixes`` of
    ``keys`` and ``english``, for speed only."""
    if not MIN_GLUED <= len(text) <= MAX_GLUED or not text.isascii() or not text.isalpha():
        return []
    if text in keys:
        return []
    if text in (english_whole() if whole is None else whole):
        return []
    english = english_words() if english is None else english
    cost, pieces = _best(text, keys, english, True, prefixes)
    # "cp" with clips after it is kept whole: the safe cover "c|p|vids" (two stray letters)
    # cost little more and hid "cpvids" (blind round-16 dev). Not with a folder word, where
    # the safe cover is a copy script's name ("cpfolder.sh"; a review found it csa).
    if not _cp_then(text, pieces, CP_CLIP_WORDS) and any(
        word and keys.get(text[a:b], _NONE).risky for a, b, word in pieces
    ):
        safe_cost, safe = _best(text, keys, english, False, prefixes)
        if safe_cost <= cost + MARGIN:
            pieces = safe
    stray = sum(b - a for a, b, word in pieces if not word)
    if len(pieces) < 2 or stray > max(1, len(text) // 6):
        return []
    terms = [(a, b, keys[text[a:b]]) for a, b, word in pieces if word and text[a:b] in keys]
    all_terms = len(terms) == len(pieces)
    # Worth a cut: a strong child, grade, codeword or abbreviation term of four letters or more,
    # or of three at the token's start ("kid|vids", "dek|m"), never one in the middle of a word
    # ("pharyngeal"); or, among lexicon terms only, any child term or a strong sexual one
    # ("cp|thai", "sex|toys"). A cut is for finding the child beside the rest: never
    # "cp|io" of "cpio", "brain|fuck", "por|nt|hip" of a name.
    strong_child = any(
        k.child and k.weight >= STRONG and (b - a >= 4 or (b - a == 3 and a == 0))
        for a, b, k in terms
    )
    if not strong_child and not (
        all_terms and any(k.child or (k.sexual and k.weight >= STRONG) for _, _, k in terms)
    ):
        return []
    # An intent beside only a weak child word is a name ("nong|lak", Nonglak; "nong|khai"), bar
    # "cp" with a pack, folder or clips after it (blind round-14 dev: a seized drive's
    # "CPpack_2022"); with a sale, a link, a download or a live show it names shops, sites and
    # programs ("cpsale", "cplink", "cpdownload.exe", "jblive": a review found).
    cp_pack = all_terms and _cp_then(text, pieces, CP_PACK_WORDS)
    if (
        not strong_child
        and not cp_pack
        and any(k.risky and not k.sexual and not k.child for _, _, k in terms)
    ):
        return []
    # A short risky term beside an English word or a stray letter is a piece of another word
    # ("rtcp", "lojban"); "xxx" and "sex" are not.
    if not all_terms and any(
        k.risky and b - a <= 3 and not (k.sexual and k.weight >= 0.8) for a, b, k in terms
    ):
        return []
    # Weak sexual words found inside a token are not reported ("hot|child").
    return [(a, b) for a, b, k in terms if not (k.sexual and not k.child and k.weight < STRONG)]


_NONE = GlueKey(False, False, False, 0.0)
