"""Tokeniser: Thai runs through nlpo3 (newmm in Rust) with a dictionary that holds the lexicon terms;
everything else splits on spaces. Token offsets refer to the normalised text."""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Iterable
from typing import ClassVar, NamedTuple

import nlpo3

from ocsea.text._fast_tokenize import split_runs

_RUN_RX = re.compile(r"[\u0e00-\u0e7f]+|[^\s\u0e00-\u0e7f]+")
_THAI_RX = re.compile(r"[\u0e00-\u0e7f]")
# Thai runs longer than this are segmented in safe mode chunks to bound the work per call.
_MAX_THAI_RUN = 2000
# Segmented Thai runs up to this length are remembered, this many at most (then it starts afresh).
_MEMO_RUN_CHARS = 64
_MEMO_RUNS = 100_000


class Token(NamedTuple):
    text: str
    start: int
    end: int
    thai: bool


class ThaiTokenizer:
    """Segments text; a process holds one nlpo3 dictionary per distinct word set."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _loaded: ClassVar[dict[int, str]] = {}

    def __init__(
        self,
        extra_words: Iterable[str] = (),
        with_default_words: bool = True,
        prefer: Iterable[str] = (),
    ) -> None:
        from pythainlp.corpus.common import thai_words

        words = set(thai_words()) if with_default_words else set()
        extra = {w for w in extra_words if w and _THAI_RX.search(w) and " " not in w}
        words.update(extra)
        # Two words newmm cut one way are cut the other way when that gives a ``prefer`` word
        # beside a dictionary word: "โลลิไทย" is "โลลิ|ไทย", not "โล|ลิไทย" (the same number of
        # words; newmm has no reason to prefer either).
        self._prefer = frozenset(w for w in prefer if w in extra)
        self._words: set[str] | frozenset[str] = words if self._prefer else frozenset()
        key = hash(frozenset(words))
        with self._lock:
            name = self._loaded.get(key)
            if name is None:
                name = f"ocsea-{len(self._loaded)}"
                fd, path = tempfile.mkstemp(prefix="ocsea-dict-", suffix=".txt")
                try:
                    with os.fdopen(fd, "w", encoding="utf-8") as fh:
                        fh.write("\n".join(sorted(words)))
                    _, ok = nlpo3.load_dict(path, name)
                finally:
                    os.unlink(path)
                if not ok:
                    raise RuntimeError("nlpo3 could not load the Thai dictionary")
                self._loaded[key] = name
        self.dict_name = name
        self._memo: dict[str, tuple[str, ...]] = {}

    def segment_thai(self, run: str) -> list[str]:
        return nlpo3.segment(run[:_MAX_THAI_RUN], self.dict_name, True)

    def tokenize(self, text: str) -> list[Token]:
        return split_runs(text, self._memo, self._segment_run, Token)

    def tokenize_py(self, text: str) -> list[Token]:
        """The tokeniser in Python: the reference ``split_runs`` is tested against."""
        tokens: list[Token] = []
        for m in _RUN_RX.finditer(text):
            run = m.group(0)
            if "\u0e00" <= run[0] <= "\u0e7f":
                pieces = self._segment_run(run)
                pos = m.start()
                for piece in pieces:
                    end = pos + len(piece)
                    tokens.append(Token(piece, pos, end, True))
                    pos = end
            else:
                tokens.append(Token(run, m.start(), m.end(), False))
        return tokens

    def _prefer_extra(self, pieces: list[str]) -> tuple[str, ...]:
        prefer, words = self._prefer, self._words
        out = list(pieces)
        for i in range(len(out) - 1):
            a, b = out[i], out[i + 1]
            if a in prefer or b in prefer:
                continue
            ab = a + b
            for k in range(1, len(ab)):
                if k == len(a):
                    continue
                x, y = ab[:k], ab[k:]
                if (x in prefer and y in words) or (y in prefer and x in words):
                    out[i], out[i + 1] = x, y
                    break
        return tuple(out)

    def _segment_run(self, run: str) -> tuple[str, ...]:
        """A Thai run's words, remembered: runs recur across filenames and queries (tokenising
        15 -> 9 µs a filename on the benchmark's unique filenames)."""
        pieces: list[str] = []
        for i in range(0, len(run), _MAX_THAI_RUN):
            pieces.extend(nlpo3.segment(run[i : i + _MAX_THAI_RUN], self.dict_name, True))
        words = self._prefer_extra(pieces) if self._prefer and len(pieces) > 1 else tuple(pieces)
        if len(run) <= _MEMO_RUN_CHARS:
            if len(self._memo) >= _MEMO_RUNS:
                self._memo.clear()
            self._memo[run] = words
        return words
