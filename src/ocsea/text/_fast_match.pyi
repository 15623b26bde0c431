"""Types of the C extension built from ``_fast_match.pyx``."""

from collections.abc import Callable, Sequence
from typing import Any

def match_tokens(
    tokens: Sequence[Any],
    memo: dict[str, Any],
    first: Callable[[str, bool], Any],
    extend: Callable[[Sequence[Any], int, list[Any]], bool],
    match: type[Any],
    pairs: dict[tuple[str, str], tuple[tuple[Any, str, float], ...]],
) -> list[Any]: ...
