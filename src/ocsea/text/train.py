"""Training the linear text model (scikit-learn) and exporting it to the safe file format."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from ocsea.text.analysis import analyze
from ocsea.text.features import DENSE_NAMES, dense_features, ngrams
from ocsea.text.lexicon import Lexicon
from ocsea.text.model import LABELS, LinearModel

Progress = Callable[[int], None]
MAX_GRAM_CHARS = 30


class TrainingError(ValueError):
    """Training data that cannot produce a model."""


def featurize(
    texts: Sequence[str], lexicon: Lexicon, progress: Progress | None = None
) -> tuple[list[list[str]], np.ndarray]:
    grams: list[list[str]] = []
    dense = np.zeros((len(texts), len(DENSE_NAMES)), dtype=np.float64)
    for i, t in enumerate(texts):
        a = analyze(t, lexicon)
        grams.append([g for g in ngrams(a.text, a.tokens) if len(g) <= MAX_GRAM_CHARS])
        dense[i] = dense_features(a.evidence)
        if progress and i % 1000 == 999:
            progress(1000)
    if progress:
        progress(len(texts) % 1000)
    return grams, dense


def _matrix(grams: list[list[str]], dense: np.ndarray, vocab: dict[str, int]) -> sparse.csr_matrix:
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for r, gs in enumerate(grams):
        idx = sorted({vocab[g] for g in gs if g in vocab})
        if idx:
            v = 1.0 / math.sqrt(len(idx))
            rows.extend([r] * len(idx))
            cols.extend(idx)
            vals.extend([v] * len(idx))
    x = sparse.csr_matrix((vals, (rows, cols)), shape=(len(grams), len(vocab)))
    return sparse.hstack([x, sparse.csr_matrix(dense)], format="csr")


def _fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    best_t, best_nll = 1.0, math.inf
    for t in np.exp(np.linspace(math.log(0.25), math.log(4.0), 61)):
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll = -logp[np.arange(len(y)), y].mean()
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def train_model(
    texts: Sequence[str],
    labels: Sequence[str],
    lexicon: Lexicon,
    *,
    c: float = 4.0,
    min_df: int = 2,
    max_features: int = 300_000,
    holdout: float = 0.1,
    seed: int = 0,
    progress: Progress | None = None,
    source: str = "",
    weights: Sequence[float] | None = None,
) -> LinearModel:
    """Fit on (1 - holdout) of the data, calibrate a temperature on the holdout. ``weights``
    count some rows more than others (analysts' reviews against a synthetic base)."""
    if len(texts) != len(labels):
        raise TrainingError("texts and labels differ in length")
    if weights is not None and len(weights) != len(texts):
        raise TrainingError("texts and weights differ in length")
    bad = sorted({lab for lab in labels if lab not in LABELS})
    if bad:
        raise TrainingError(f"unknown labels {bad}; expected {list(LABELS)}")
    counts = Counter(labels)
    missing = [lab for lab in LABELS if counts[lab] < 2]
    if missing:
        raise TrainingError(f"need at least 2 examples of every label; too few of {missing}")
    grams, dense = featurize(texts, lexicon, progress)
    y = np.array([LABELS.index(lab) for lab in labels])
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(texts))
    n_hold = int(len(texts) * holdout) if len(texts) >= 50 else 0
    hold, fit = order[:n_hold], order[n_hold:]
    df: Counter[str] = Counter()
    for i in fit:
        df.update(set(grams[i]))
    # Ties broken by the n-gram itself: Counter keeps first-seen order, and that followed the
    # iteration order of each text's set of n-grams, which string hashing changes from one
    # process to the next; the vocabulary's order then changed the solver's path, and two
    # builds from the same corpus differed by up to 1.3 in a weight (PYTHONHASHSEED fixed: the
    # same bytes).
    ranked = sorted(df.items(), key=lambda gn: (-gn[1], gn[0]))[:max_features]
    kept = [g for g, n in ranked if n >= min_df]
    vocab = {g: i for i, g in enumerate(kept)}
    x = _matrix(grams, dense, vocab)
    clf = LogisticRegression(C=c, max_iter=1000, random_state=seed)
    sample_weight = None if weights is None else np.asarray(weights, dtype=np.float64)[fit]
    clf.fit(x[fit], y[fit], sample_weight=sample_weight)
    w = np.zeros((len(LABELS), x.shape[1]), dtype=np.float64)
    b = np.zeros(len(LABELS), dtype=np.float64)
    for k, cls in enumerate(clf.classes_):
        w[cls] = clf.coef_[k]
        b[cls] = clf.intercept_[k]
    temperature = 1.0
    if n_hold:
        temperature = _fit_temperature(x[hold] @ w.T + b, y[hold])
    meta = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "n_examples": len(texts),
        "label_counts": dict(counts),
        "c": c,
        "min_df": min_df,
        "n_vocab": len(vocab),
        "holdout": n_hold,
        "seed": seed,
        "source": source,
        "weighted_rows": 0 if weights is None else int(sum(1 for v in weights if v != 1.0)),
    }
    return LinearModel(vocab, w.astype(np.float32), b, temperature, LABELS, meta)
