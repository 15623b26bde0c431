"""A calibrated linear model over n-gram and lexicon features, stored without pickle.

The file is a compressed ``.npz`` holding plain arrays (weights, the n-gram vocabulary as a unicode
array) and a JSON metadata string; it is loaded with ``allow_pickle=False``, so a model file from an
untrusted source cannot run code.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ocsea.text.features import DENSE_NAMES

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
        self._n_vocab = len(self.vocab)
        self._dense_w = np.ascontiguousarray(self.weights[:, self._n_vocab :], dtype=np.float64)
        self._sparse_wt = np.ascontiguousarray(self.weights[:, : self._n_vocab].T)
        # Per-feature pull towards csa against the other labels, for explanations.
        i = self.labels.index("csa")
        self._csa_pull = self._sparse_wt[:, i] - self._sparse_wt.mean(axis=1)
        self._inv_vocab: list[str] | None = None

    def indices(self, grams: Sequence[str]) -> list[int]:
        get = self.vocab.get
        return sorted({j for g in grams if (j := get(g)) is not None})

    def logits(self, idx: Sequence[int], dense: Sequence[float]) -> np.ndarray:
        z = self.bias + self._dense_w @ np.asarray(dense, dtype=np.float64)
        if idx:
            z = z + self._sparse_wt[idx].sum(axis=0) / math.sqrt(len(idx))
        return z

    def probs(self, idx: Sequence[int], dense: Sequence[float]) -> np.ndarray:
        z = self.logits(idx, dense) / self.temperature
        z = z - z.max()
        e = np.exp(z)
        return e / e.sum()

    def top_csa_features(self, idx: Sequence[int], k: int = 3) -> list[tuple[str, float]]:
        if not idx:
            return []
        if self._inv_vocab is None:
            inv = [""] * self._n_vocab
            for g, j in self.vocab.items():
                inv[j] = g
            self._inv_vocab = inv
        pulls = self._csa_pull[list(idx)] / math.sqrt(len(idx))
        order = np.argsort(-pulls)[:k]
        return [(self._inv_vocab[idx[o]], float(pulls[o])) for o in order if pulls[o] > 0]

    def save(self, path: Path | str) -> Path:
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        grams = [""] * len(self.vocab)
        for g, j in self.vocab.items():
            grams[j] = g
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
            vocab=np.array(grams, dtype=str),
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
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            raise ModelError(f"{path}: not an ocsea text model ({exc})") from exc
        if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
            raise ModelError(f"{path}: unsupported model format {meta.get('format')!r}")
        if tuple(meta.get("dense", ())) != DENSE_NAMES:
            raise ModelError(f"{path}: model was trained with other lexicon features; retrain it")
        labels = tuple(meta["labels"])
        if weights.shape != (len(labels), len(grams) + len(DENSE_NAMES)):
            raise ModelError(f"{path}: weight matrix shape {weights.shape} does not fit")
        vocab = {g: i for i, g in enumerate(grams)}
        return cls(vocab, weights, bias, float(meta.get("temperature", 1.0)), labels, meta)
