"""A calibrated linear model over n-gram and lexicon features, stored without pickle.

The file is a compressed ``.npz`` holding plain arrays (weights, the n-gram vocabulary as a unicode
array) and a JSON metadata string; it is loaded with ``allow_pickle=False``, so a model file from an
untrusted source cannot run code.
"""

from __future__ import annotations

import heapq
import json
import math
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from ocsea.text._ngram_scorer import NgramScorer
from ocsea.text.features import (
    DENSE_NAMES,
    MAX_FEATURE_CHARS,
    MAX_WORD_TOKENS,
    NGRAM_MAX,
    NGRAM_MIN,
)
from ocsea.text.tokenize import Token

LABELS = ("csa", "adult", "benign")
FORMAT = "ocsea-linear-text-model"
FORMAT_VERSION = 1


class ModelError(ValueError):
    """A model file that cannot be loaded."""


@dataclass
class LinearModel:
    vocab: dict[str, int]
    weights: np.ndarray  # shape (n_labels, n_vocab + n_dense), float32
    bias: np.ndarray  # shape (n_labels,)
    temperature: float = 1.0
    labels: tuple[str, ...] = LABELS
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.labels) != 3 or "csa" not in self.labels:
            raise ModelError(
                f"a text model has three labels with csa among them, not {self.labels}"
            )
        n_vocab = len(self.vocab)
        w = np.asarray(self.weights, dtype=np.float64)
        # Softmax does not change when every logit moves by the same amount, so each weight is
        # kept less the third label's: two numbers per feature instead of three. The Python
        # reference (``probs``, which training and the tests use) holds the two in one complex
        # number per feature.
        d = w[:2] - w[2]
        self._dense_c: list[complex] = (d[0, n_vocab:] + 1j * d[1, n_vocab:]).tolist()
        b = np.asarray(self.bias, dtype=np.float64)
        self._bias_c = complex(b[0] - b[2], b[1] - b[2])
        # The model reason: each n-gram's pull towards csa (its csa weight less its mean weight).
        i = self.labels.index("csa")
        pull = w[i, :n_vocab] - w[:, :n_vocab].mean(axis=0)
        self._names = [""] * n_vocab  # the n-grams in index order
        for g, j in self.vocab.items():
            self._names[j] = g
        # Inference sums the same n-grams in C, then the softmax: 46 -> 7 µs a filename against
        # ``ngrams`` + ``probs`` + ``top_csa_features`` (same 20k unique filenames, best of five).
        self._scorer = NgramScorer(
            self.vocab, d[0, :n_vocab], d[1, :n_vocab], pull, NGRAM_MIN, NGRAM_MAX
        )
        self._scorer.set_linear(
            self._bias_c.real, self._bias_c.imag, d[0, n_vocab:], d[1, n_vocab:], self.temperature
        )
        self._scorer.set_text_features(self._names, MAX_FEATURE_CHARS, MAX_WORD_TOKENS)

    @cached_property
    def _gram_c(self) -> dict[str, complex]:
        """The reference's n-gram weights (as ``_dense_c``), built when it is first used:
        inference does not need them, and they took about 10 of the model's 50 ms to load."""
        n_vocab = len(self.vocab)
        w = np.asarray(self.weights[:, :n_vocab], dtype=np.float64)
        d = w[:2] - w[2]
        cvals = (d[0] + 1j * d[1]).tolist()
        return {g: cvals[j] for g, j in self.vocab.items()}

    @cached_property
    def _pull(self) -> list[float]:
        """The reference's pull of each n-gram towards csa (``top_csa_features``)."""
        n_vocab = len(self.vocab)
        w = np.asarray(self.weights[:, :n_vocab], dtype=np.float64)
        return (w[self.labels.index("csa")] - w.mean(axis=0)).tolist()

    def probs(self, grams: Iterable[str], dense: Sequence[float]) -> list[float]:
        """Calibrated probabilities, in ``self.labels`` order."""
        get = self._gram_c.get
        cs = [c for g in set(grams) if (c := get(g)) is not None]
        z = self._bias_c
        if cs:
            z += sum(cs) / math.sqrt(len(cs))
        return self._softmax(z, dense)

    def score_text(
        self, text: str, tokens: Sequence[Token], dense: Sequence[float], k: int = 3
    ) -> tuple[list[float], list[tuple[str, float]]]:
        """``probs(ngrams(text, tokens), dense)`` and ``top_csa_features(ngrams(text, tokens), k)``
        in one pass of the C scorer (the reference the tests compare it with)."""
        return self._scorer.score_text(text, tokens, dense, k)

    def _softmax(self, z: complex, dense: Sequence[float]) -> list[float]:
        dc = self._dense_c
        for j, x in enumerate(dense):
            if x:
                z += dc[j] * x
        t = self.temperature
        logits = (z.real, z.imag, 0.0)
        top = max(logits)
        e = [math.exp((x - top) / t) for x in logits]
        total = sum(e)
        return [x / total for x in e]

    def top_csa_features(self, grams: Iterable[str], k: int = 3) -> list[tuple[str, float]]:
        """The n-grams of a text that pulled most towards csa, with their pull."""
        vocab, pull = self.vocab, self._pull
        idx = [j for g in set(grams) if (j := vocab.get(g)) is not None]
        if not idx:
            return []
        inv = 1.0 / math.sqrt(len(idx))
        best = heapq.nlargest(k, idx, key=lambda j: (pull[j], j))
        return [(self._names[j], pull[j] * inv) for j in best if pull[j] > 0]

    def save(self, path: Path | str) -> Path:
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = dict(self.meta)
        meta.update(
            format=FORMAT,
            format_version=FORMAT_VERSION,
            labels=list(self.labels),
            dense=list(DENSE_NAMES),
            temperature=self.temperature,
        )
        np.savez_compressed(
            path,
            vocab=np.array(self._names, dtype=str),
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float64),
            meta=np.array(json.dumps(meta, ensure_ascii=False)),
        )
        return path

    @classmethod
    def load(cls, path: Path | str) -> LinearModel:
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                grams = z["vocab"].tolist()
                weights = z["weights"].astype(np.float32)
                bias = z["bias"].astype(np.float64)
        except FileNotFoundError:
            raise ModelError(f"{path}: no such model file") from None
        except IsADirectoryError:
            raise ModelError(f"{path}: a directory, not a model file") from None
        except (OSError, ValueError, KeyError, json.JSONDecodeError, zipfile.BadZipFile) as exc:
            # numpy's own words (allow_pickle, zip internals) mean nothing to a user: say what it is
            raise ModelError(
                f"{path}: not an ocsea text model (make one with `ocsea text train`)"
            ) from exc
        if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
            raise ModelError(f"{path}: unsupported model format {meta.get('format')!r}")
        if tuple(meta.get("dense", ())) != DENSE_NAMES:
            raise ModelError(f"{path}: model was trained with other lexicon features; retrain it")
        labels = tuple(meta["labels"])
        if weights.shape != (len(labels), len(grams) + len(DENSE_NAMES)):
            raise ModelError(f"{path}: weight matrix shape {weights.shape} does not fit")
        vocab = {g: i for i, g in enumerate(grams)}
        return cls(vocab, weights, bias, float(meta.get("temperature", 1.0)), labels, meta)
