"""New-term discovery in query logs: words that co-occur with flagged (csa) queries far more than
chance and are not yet in the lexicon, ranked by Dunning's log-likelihood ratio G²."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

MIN_FLAGGED = 5  # a candidate must occur in at least this many flagged queries
MIN_SHARE = 0.5  # and at least this share of its queries must be flagged
# and it must occur in this many different flagged queries: the words of one frequent query are
# no new term (the demo log's most frequent flagged query, spread out letter by letter, put its
# syllables above the planted codeword).
MIN_DISTINCT = 3
_DIGITS = re.compile(r"^[\d+.]+$")


@dataclass(frozen=True)
class Candidate:
    term: str
    g2: float
    flagged: int
    total: int
    rising: float | None  # share of flagged uses in the last 7 days over the earlier share
    examples: tuple[str, ...]


def g2(a: int, b: int, c: int, d: int) -> float:
    """Log-likelihood ratio of a 2×2 table: a = term & flagged, b = term & not, c = other &
    flagged, d = other & not (Dunning 1993)."""
    n = a + b + c + d

    def part(k: int, row: int, col: int) -> float:
        e = row * col / n
        return k * math.log(k / e) if k > 0 and e > 0 else 0.0

    return 2 * (
        part(a, a + b, a + c)
        + part(b, a + b, b + d)
        + part(c, c + d, a + c)
        + part(d, c + d, b + d)
    )


def discover(
    queries: Iterable[tuple[list[str], bool, int, date]],
    known_terms: set[str],
    min_flagged: int = MIN_FLAGGED,
    min_share: float = MIN_SHARE,
    top: int = 100,
    min_distinct: int = MIN_DISTINCT,
) -> list[Candidate]:
    """``queries``: (tokens of the normalised query, flagged?, count, day)."""
    term_flag: Counter[str] = Counter()
    term_all: Counter[str] = Counter()
    recent: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    # Up to ``min_distinct`` different flagged queries a term occurs in (a query comes once a
    # day it was seen): enough to tell, and bounded whatever the log's size.
    distinct: dict[str, set[int]] = {}
    n_flag = n_all = 0
    rows = list(queries)
    last_day = max((d for *_, d in rows), default=None)
    cutoff = last_day - timedelta(days=7) if last_day else None
    for tokens, flagged, count, day in rows:
        if flagged:
            # A query's words without its numbers, in any order: "a b 2" and "b a" are one.
            query_id = hash(frozenset(t for t in tokens if not _DIGITS.match(t)))
        n_all += count
        n_flag += count * flagged
        for t in set(tokens):
            if len(t) < 2 or _DIGITS.match(t) or t in known_terms:
                continue
            term_all[t] += count
            if flagged:
                term_flag[t] += count
                seen = distinct.setdefault(t, set())
                if len(seen) < min_distinct:
                    seen.add(query_id)
                if cutoff and day > cutoff:
                    recent[t] += count
                ex = examples.setdefault(t, [])
                if len(ex) < 3:
                    ex.append(" ".join(tokens))
    out = []
    for t, a in term_flag.items():
        total = term_all[t]
        if a < min_flagged or a / total < min_share or len(distinct.get(t, ())) < min_distinct:
            continue
        b = total - a
        score = g2(a, b, n_flag - a, n_all - n_flag - b)
        rising = None
        if cutoff and a:
            rising = round(recent[t] / a, 3)
        out.append(Candidate(t, round(score, 2), a, total, rising, tuple(examples.get(t, ()))))
    out.sort(key=lambda c: -c.g2)
    return out[:top]
