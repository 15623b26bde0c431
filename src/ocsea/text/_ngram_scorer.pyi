"""Types of the C extension built from ``_ngram_scorer.pyx``."""

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

class NgramScorer:
    def __init__(
        self,
        vocab: dict[str, int],
        re: ArrayLike | np.ndarray,
        im: ArrayLike | np.ndarray,
        pull: ArrayLike | np.ndarray,
        nmin: int = 2,
        nmax: int = 4,
    ) -> None: ...
    def score(
        self, padded: str, words: Sequence[str], k: int = 3
    ) -> tuple[float, float, int, list[int]]: ...
    def set_linear(
        self,
        bias_re: float,
        bias_im: float,
        dense_re: ArrayLike | np.ndarray,
        dense_im: ArrayLike | np.ndarray,
        temperature: float,
    ) -> None: ...
    def probs(
        self, padded: str, words: Sequence[str], dense: Sequence[float], k: int = 3
    ) -> tuple[list[float], int, list[int]]: ...
    def set_text_features(self, names: list[str], max_chars: int, max_words: int) -> None: ...
    def score_text(
        self, text: str, tokens: Sequence[Any], dense: Sequence[float], k: int = 3
    ) -> tuple[list[float], list[tuple[str, float]]]: ...
