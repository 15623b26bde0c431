"""Metrics for a detector on labelled data: per class, per language, the rates that matter for
deployment (benign→csa and adult→csa false alarms), and a precision–recall curve for csa."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    precision_recall_curve,
    precision_recall_fscore_support,
)

from ocsea.text.dataset import Labelled
from ocsea.text.model import LABELS


def evaluate_predictions(
    rows: Sequence[Labelled], predicted: Sequence[str], scores: Sequence[float]
) -> dict[str, Any]:
    y = [r.label for r in rows]
    out = _block(y, list(predicted), list(scores))
    for name, attr in (("per_language", "lang"), ("per_kind", "kind"), ("per_intent", "intent")):
        values = sorted({getattr(r, attr) for r in rows if getattr(r, attr)})
        if not values:
            continue
        out[name] = {}
        for value in values:
            idx = [i for i, r in enumerate(rows) if getattr(r, attr) == value]
            out[name][value] = _block(
                [y[i] for i in idx], [predicted[i] for i in idx], [scores[i] for i in idx]
            )
    return out


def _block(y: list[str], p: list[str], s: list[float]) -> dict[str, Any]:
    prec, rec, f1, sup = precision_recall_fscore_support(y, p, labels=list(LABELS), zero_division=0)
    cm = confusion_matrix(y, p, labels=list(LABELS))
    per_class = {
        lab: {
            "precision": round(float(prec[i]), 4),
            "recall": round(float(rec[i]), 4),
            "f1": round(float(f1[i]), 4),
            "support": int(sup[i]),
        }
        for i, lab in enumerate(LABELS)
    }

    def rate(true: str, pred: str) -> float | None:
        n = sum(1 for t in y if t == true)
        return (
            round(sum(1 for t, q in zip(y, p, strict=True) if t == true and q == pred) / n, 4)
            if n
            else None
        )

    is_csa = np.array([t == "csa" for t in y])
    ap = float(average_precision_score(is_csa, s)) if 0 < is_csa.sum() < len(is_csa) else None
    return {
        "n": len(y),
        "accuracy": round(float(np.mean([a == b for a, b in zip(y, p, strict=True)])), 4)
        if y
        else None,
        "per_class": per_class,
        "confusion": {"labels": list(LABELS), "matrix": cm.tolist()},
        "csa_recall": per_class["csa"]["recall"] if per_class["csa"]["support"] else None,
        "benign_to_csa": rate("benign", "csa"),
        "adult_to_csa": rate("adult", "csa"),
        "csa_average_precision": round(ap, 4) if ap is not None else None,
    }


def write_report(
    out_dir: Path,
    rows: Sequence[Labelled],
    predicted: Sequence[str],
    scores: Sequence[float],
    metrics: dict[str, Any],
    name: str = "detector",
) -> None:
    """metrics.json, errors.tsv and pr-curve.png in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")
    with (out_dir / "errors.tsv").open("w", encoding="utf-8") as fh:
        fh.write("label\tpredicted\tscore\tlang\tkind\tintent\ttext\n")
        for r, p, s in zip(rows, predicted, scores, strict=True):
            if r.label != p:
                fh.write(f"{r.label}\t{p}\t{s:.3f}\t{r.lang}\t{r.kind}\t{r.intent}\t{r.text}\n")
    is_csa = [r.label == "csa" for r in rows]
    if 0 < sum(is_csa) < len(is_csa):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        prec, rec, _ = precision_recall_curve(is_csa, scores)
        fig, ax = plt.subplots(figsize=(5, 4), dpi=100)
        ax.plot(rec, prec, label=name)
        ax.set_xlabel("recall (csa)")
        ax.set_ylabel("precision (csa)")
        ax.set_xlim(0, 1.01)
        ax.set_ylim(0, 1.01)
        ax.grid(alpha=0.3)
        ax.set_title(f"csa precision–recall, AP={metrics.get('csa_average_precision')}")
        ax.legend(loc="lower left")
        fig.tight_layout()
        fig.savefig(out_dir / "pr-curve.png")
        plt.close(fig)


def run_detector(
    rows: Sequence[Labelled], classify: Callable[[str], tuple[str, float]]
) -> tuple[list[str], list[float]]:
    predicted: list[str] = []
    scores: list[float] = []
    for r in rows:
        label, score = classify(r.text)
        predicted.append(label)
        scores.append(score)
    return predicted, scores
