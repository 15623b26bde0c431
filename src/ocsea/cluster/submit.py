"""Submitting parts to the cluster and taking their results back in input order. At most a
window of parts is in the cluster at a time (bounded memory there and here); a result is taken
as soon as it and every earlier one are done, so output starts early and stays ordered. A part
whose worker dies is run again by the scheduler, and one that fails is retried: no part is
lost or written twice."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

from ocsea.cluster.spec import ClusterError

if TYPE_CHECKING:
    from distributed import Client, Future

P = TypeVar("P")
R = TypeVar("R")

RETRIES = 3
PARTS_PER_SLOT = 4  # parts per worker thread: the slow last part of one is a quarter of its work
WINDOW_PER_SLOT = 2  # parts in the cluster per worker thread


def part_count(size: int, slots: int, max_part_bytes: int) -> int:
    """How many parts to cut ``size`` bytes into for ``slots`` worker threads."""
    return max(PARTS_PER_SLOT * slots, -(-size // max_part_bytes))


def ordered_results(
    client: Client,
    fn: Callable[..., R],
    args: tuple,
    parts: Iterable[P],
    window: int,
) -> Iterator[R]:
    """``fn(*args, part)`` for every part, in the parts' order, with no more than ``window``
    parts submitted and not yet taken. Pending parts are cancelled if the caller stops early."""
    todo = iter(parts)
    pending: deque[Future] = deque()
    try:
        _top_up(client, fn, args, todo, pending, max(1, window))
        while pending:
            future = pending.popleft()
            result = _taken(future)
            _top_up(client, fn, args, todo, pending, max(1, window))
            yield result
    finally:
        if pending:
            client.cancel(list(pending))


def _taken(future: Future) -> R:
    """The part's result; a ClusterError if it failed even when retried (a worker that cannot
    read the input, a worker killed by every attempt)."""
    try:
        result = future.result()
    except Exception as exc:
        raise ClusterError(f"a part of the input failed on the Dask cluster: {exc}") from exc
    future.release()
    return result


def _top_up(
    client: Client,
    fn: Callable[..., R],
    args: tuple,
    todo: Iterator[P],
    pending: deque[Future],
    window: int,
) -> None:
    while len(pending) < window:
        part = next(todo, None)
        if part is None:
            return
        pending.append(client.submit(fn, *args, part, retries=RETRIES, pure=False))
