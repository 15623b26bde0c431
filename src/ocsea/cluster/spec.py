"""The ``--dask`` option: an existing scheduler (``tcp://HOST:PORT``) or a local cluster of N
worker processes (``local:N``). Parsed before anything is loaded, so a typo costs nothing."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

ENV_VAR = "OCSEA_DASK"
FORMS = (
    "tcp://HOST:PORT or tls://HOST:PORT (a running Dask scheduler) or local:N "
    "(N worker processes here)"
)


class ClusterError(Exception):
    """A ``--dask`` problem the user can fix; its message is one line."""


@dataclass(frozen=True, slots=True)
class Scheduler:
    address: str  # tcp://HOST:PORT or tls://HOST:PORT

    @property
    def tls(self) -> bool:
        return self.address.startswith("tls://")


@dataclass(frozen=True, slots=True)
class LocalWorkers:
    n: int


ClusterSpec = Scheduler | LocalWorkers


def parse_spec(text: str) -> ClusterSpec:
    """``tcp://HOST:PORT``, ``tls://HOST:PORT`` or ``local:N`` (N >= 1); a ClusterError names
    the accepted forms."""
    text = text.strip()
    if text.startswith("local:"):
        return _local(text.removeprefix("local:"))
    if text.startswith(("tcp://", "tls://")):
        return _scheduler(text)
    raise ClusterError(f"--dask {text!r}: expected {FORMS}")


def _local(count: str) -> LocalWorkers:
    if not count.isascii() or not count.isdigit():
        raise ClusterError(f"--dask local:{count}: N must be a whole number of workers, as local:4")
    n = int(count)
    if n < 1:
        raise ClusterError(f"--dask local:{count}: N must be at least 1")
    return LocalWorkers(n)


def _scheduler(text: str) -> Scheduler:
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:  # not a number, or out of 0..65535
        port = None
    extra = parts.username or parts.path or parts.query or parts.fragment
    if not parts.hostname or not port or extra:
        scheme = parts.scheme or "tcp"
        raise ClusterError(
            f"--dask {text!r}: expected {scheme}://HOST:PORT, as {scheme}://10.0.0.5:8786"
        )
    return Scheduler(text)
