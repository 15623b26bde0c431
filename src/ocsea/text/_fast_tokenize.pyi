"""Types of the C extension built from ``_fast_tokenize.pyx``."""

from collections.abc import Callable, Sequence
from typing import Any

def split_runs(
    text: str,
    memo: dict[str, tuple[str, ...]],
    segment_run: Callable[[str], Sequence[str]],
    token: type[Any],
) -> list[Any]: ...
