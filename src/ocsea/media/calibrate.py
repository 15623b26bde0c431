"""Refit the media risk rule on an agency's reviewed cases (``ocsea media calibrate``).

The rule is logistic over ``risk.FEATURES``, so scikit-learn's logistic regression fits the same
form; what comes out is a ``[media.risk]`` table, and the cross-validated ROC AUC of the fitted
and the current weights on the same reviews says whether the change is worth making.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ocsea.media.risk import FEATURES


class CalibrationError(ValueError):
    """Too few or one-sided reviews to fit on."""


@dataclass(frozen=True)
class Fit:
    weights: dict[str, float]
    n: int
    n_positive: int
    auc_fitted: float
    auc_current: float

    def toml(self) -> str:
        lines = [
            "[media.risk]",
            f"# refitted by `ocsea media calibrate` on {self.n} reviewed files "
            f"({self.n_positive} baseline/national); ROC AUC {self.auc_fitted:.3f} "
            f"(current weights {self.auc_current:.3f})",
        ]
        lines += [f"{k} = {v:.4f}" for k, v in self.weights.items()]
        return "\n".join(lines) + "\n"


def _current_scores(x: np.ndarray, current: Mapping[str, float]) -> np.ndarray:
    w = np.array([current[f] for f in FEATURES])
    return 1.0 / (1.0 + np.exp(-(current["bias"] + x @ w)))


def fit_weights(
    xs: Sequence[Sequence[float]],
    ys: Sequence[int],
    current: Mapping[str, float],
    min_rows: int = 40,
    seed: int = 0,
) -> Fit:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    x = np.asarray(xs, dtype=np.float64).reshape(-1, len(FEATURES))
    y = np.asarray(ys, dtype=np.int64)
    n, pos = len(y), int(y.sum())
    if n < min_rows:
        raise CalibrationError(f"{n} reviewed files with media signals; at least {min_rows} needed")
    if pos < 5 or n - pos < 5:
        raise CalibrationError(
            f"{pos} baseline/national and {n - pos} not-illegal reviews: at least 5 of each needed"
        )
    folds = StratifiedKFold(n_splits=min(5, pos, n - pos), shuffle=True, random_state=seed)
    predicted = np.zeros(n)
    for train, test in folds.split(x, y):
        m = LogisticRegression(C=1.0, max_iter=1000).fit(x[train], y[train])
        predicted[test] = m.predict_proba(x[test])[:, 1]
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    weights = {"bias": float(model.intercept_[0])}
    weights.update({f: float(c) for f, c in zip(FEATURES, model.coef_[0], strict=True)})
    if not all(math.isfinite(v) for v in weights.values()):
        raise CalibrationError("the fit did not converge to finite weights")
    return Fit(
        weights={k: round(v, 4) for k, v in weights.items()},
        n=n,
        n_positive=pos,
        auc_fitted=float(roc_auc_score(y, predicted)),
        auc_current=float(roc_auc_score(y, _current_scores(x, current))),
    )


__all__ = ["CalibrationError", "Fit", "fit_weights"]
