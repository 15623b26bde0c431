"""A worker killed mid-run, for the ``--dask`` fault tests of every batch command."""

from __future__ import annotations

import os
import signal

from ocsea.cluster import submit


def kill_a_busy_worker(client) -> int | None:
    """The process id of a worker killed (SIGKILL) while it had a part, or None when none had."""
    busy = [addr for addr, keys in client.processing().items() if keys]
    if not busy:
        return None
    pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
    os.kill(pid, signal.SIGKILL)
    return pid


def kill_after(client, done: int, killed: list[int], after: int = 3) -> None:
    """Once ``after`` parts are done, kill a worker busy with a part, once (its pid goes to
    ``killed``); where none is busy yet, at the next part."""
    if done >= after and not killed and (pid := kill_a_busy_worker(client)):
        killed.append(pid)


def kill_after_three_results(monkeypatch, client) -> tuple[list[int], list[int]]:
    """``submit.ordered_results`` with a worker killed after the third result is taken; returns
    the killed pids and a one-item list counting the results taken."""
    killed: list[int] = []
    taken = [0]
    ordered = submit.ordered_results

    def killing(*args, **kwargs):
        for result in ordered(*args, **kwargs):
            taken[0] += 1
            kill_after(client, taken[0], killed)
            yield result

    monkeypatch.setattr(submit, "ordered_results", killing)
    return killed, taken
