"""Types of the C extension built from ``_pdq_query.pyx``."""

from collections.abc import Sequence

import numpy as np

class Searcher:
    n_probes: int
    crowded: float
    def __init__(
        self,
        words: np.ndarray,
        ids: np.ndarray,
        order: np.ndarray,
        offsets: np.ndarray,
        offset_base: np.ndarray,
        sizes: Sequence[int],
        radii: Sequence[int],
        masks: np.ndarray,
        chunk: np.ndarray,
        max_distance: int,
        crowded: float = 3.0,
    ) -> None: ...
    def query(self, raw: bytes) -> list[tuple[int, int]]: ...
    def candidates(self, raw: bytes) -> int: ...
    def query_many(self, raw: bytes) -> list[list[tuple[int, int]]]: ...
