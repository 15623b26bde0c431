"""A Dask client for a ``--dask`` spec: connected to a running scheduler, or to a local cluster
started for this command and closed when it ends. Every failure is one ClusterError line."""

from __future__ import annotations

import hashlib
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING

from ocsea.cluster.spec import ClusterError, ClusterSpec, LocalWorkers

if TYPE_CHECKING:
    from distributed import Client

CONNECT_TIMEOUT_S = 10.0
INSTALL_HINT = "pip install 'ocsea[cluster]'"


@contextmanager
def dask_client(spec: ClusterSpec) -> Iterator[Client]:
    """A client with at least one worker; a local cluster is closed on exit."""
    _require_distributed()
    if isinstance(spec, LocalWorkers):
        with _local_client(spec.n) as client:
            yield client
        return
    with _remote_client(spec.address, spec.tls) as client:
        yield client


def worker_threads(client: Client) -> int:
    """Task slots in the cluster (threads over all workers), at least 1."""
    workers = client.scheduler_info(n_workers=-1)["workers"].values()
    return max(1, sum(w.get("nthreads", 1) for w in workers))


def _require_distributed() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ClusterError(f"--dask needs Dask, which is not installed: {INSTALL_HINT}") from None
    try:
        import lz4.frame  # noqa: F401  (classify's parts travel compressed)
    except ImportError:
        raise ClusterError(f"--dask needs lz4, which is not installed: {INSTALL_HINT}") from None


# Dask's nanny sets MALLOC_TRIM_THRESHOLD_ in its workers (to return memory to the system
# sooner); a set trim threshold also fixes glibc's mmap threshold, so every decoded image buffer
# is mapped and unmapped afresh: PDQ of camera photos took 1.6x as long in a worker (4.5 -> 7.3 s
# for 50 photos). Unset for the workers of local:N; docs/scale.md says so for `dask worker`.
LOCAL_WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


@contextmanager
def _local_client(n: int) -> Iterator[Client]:
    import dask
    from distributed import Client, LocalCluster

    with (
        dask.config.set(LOCAL_WORKER_CONFIG),
        LocalCluster(
            n_workers=n,
            threads_per_worker=1,  # processes: the detector is Python code, holding the GIL
            processes=True,
            dashboard_address=None,
            # Without a dashboard the scheduler still serves its health page, on port 8787
            # (a warning on stderr when that is taken): a free port on loopback instead.
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            # The workers log restarts, shutdown and a part's failure on the command's stderr:
            # not those (a failed part reaches the command as an error of its own).
            silence_logs=logging.CRITICAL,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


# Where a tls:// client's certificates come from: Dask's own configuration (a YAML file under
# ~/.config/dask/, or these environment variables), as for `dask scheduler` and `dask worker`.
TLS_SETTINGS = (
    "DASK_DISTRIBUTED__COMM__TLS__CA_FILE",
    "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT",
    "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY",
)


@contextmanager
def _remote_client(address: str, tls: bool = False) -> Iterator[Client]:
    from distributed import Client

    if tls:
        _require_tls_settings(address)
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S)
    # Refused, unknown host, timed out, a TLS handshake refused: Dask retries them till timeout.
    except OSError:
        hint = (
            " (with certificates it trusts, and that trust it: the CA and this client's "
            "certificate and key)"
            if tls
            else ""
        )
        raise ClusterError(
            f"the Dask scheduler at {address} did not answer within {CONNECT_TIMEOUT_S:g} s: "
            f"is it running (`dask scheduler`) and reachable from here{hint}?"
        ) from None
    with client:
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        except TimeoutError:
            raise ClusterError(
                f"the Dask scheduler at {address} has no workers: start some with "
                f"`dask worker {address}`"
            ) from None
        check_workers(client)
        yield client


def _require_tls_settings(address: str) -> None:
    """A tls:// scheduler wants this client's certificate: say where it goes, before Dask says
    something about an SSL context."""
    from distributed import Security

    sec = Security()
    # The key may sit in the certificate's file (one PEM with both), as Dask allows.
    missing = [
        env for env, value in zip(TLS_SETTINGS[:2], (sec.tls_ca_file, sec.tls_client_cert), strict=True)
        if not value
    ]  # fmt: skip
    if missing:
        raise ClusterError(
            f"--dask {address}: TLS needs the CA certificate and this client's certificate (and "
            f"its key, unless in the same file) in Dask's configuration; not set: "
            f"{', '.join(missing)}"
        )


# Packages whose versions change verdicts (word lists, look-alike tables, the Thai tokeniser),
# and lz4, which a worker needs to send classify's output back (a worker installed before it
# joined the cluster extra is named, not failed).
_VERDICT_PACKAGES = ("pythainlp", "nlpo3", "wordfreq", "confusable-homoglyphs", "lz4")


@lru_cache(maxsize=1)
def fingerprint() -> dict[str, str]:
    """What must be the same on the client and every worker for a run to give what a plain run
    gives: ocsea's Python code and data (every such file of the installed package: a version
    number does not move with each change), Python's version, and the versions of the packages
    verdicts depend on."""
    from importlib import metadata
    from pathlib import Path

    import ocsea

    root = Path(ocsea.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        # Python and data files: compiled extensions differ by build, not by what they do.
        if path.is_file() and path.suffix in (".py", ".tsv", ".npz", ".json", ".txt"):
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            digest.update(path.read_bytes())
    out = {
        "ocsea": f"{ocsea.__version__} ({digest.hexdigest()[:12]})",
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
    }
    for name in _VERDICT_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def differences(mine: dict[str, str], theirs: dict[str, dict[str, str]]) -> list[str]:
    """One line per worker that differs from this client, naming what differs."""
    out = []
    for worker, fp in sorted(theirs.items()):
        diff = [f"{k} {fp.get(k, '?')} (here {v})" for k, v in mine.items() if fp.get(k) != v]
        if diff:
            out.append(f"{worker}: " + ", ".join(diff))
    return out


def check_workers(client: Client) -> None:
    """Every worker runs what this client runs, or a ClusterError naming the ones that do not:
    a worker with another lexicon or model would label the same text differently."""
    answers = client.run(fingerprint, on_error="return")
    failed = {w: a for w, a in answers.items() if isinstance(a, BaseException)}
    if failed:
        worker, exc = sorted(failed.items())[0]
        raise ClusterError(
            f"Dask worker {worker} cannot run ocsea ({type(exc).__name__}: {exc}"[:300]
            + f"){'' if len(failed) == 1 else f', nor {len(failed) - 1} other worker(s)'}: "
            "install the same ocsea on every worker"
        )
    bad = differences(fingerprint(), answers)
    if bad:
        raise ClusterError(
            "Dask workers differ from this client, so results could differ from a plain run: "
            + "; ".join(bad[:5])
            + (f"; and {len(bad) - 5} more" if len(bad) > 5 else "")
            + ". Install the same ocsea on every worker."
        )


def _unseen(paths: list[str]) -> list[str]:
    import os

    return [p for p in paths if not os.path.exists(p)]


def check_paths(client: Client, paths: list[str]) -> None:
    """Every worker sees these paths (the evidence of a scan, the folders to hash), or a
    ClusterError naming the workers that do not: a worker without the shared mount would fail
    every part it is given."""
    answers = client.run(_unseen, paths, on_error="return")
    blind = {
        w: a if isinstance(a, list) else [f"({type(a).__name__})"]
        for w, a in sorted(answers.items())
        if not isinstance(a, list) or a
    }
    if blind:
        worker, missing = next(iter(blind.items()))
        more = f", and {len(blind) - 1} other worker(s)" if len(blind) > 1 else ""
        raise ClusterError(
            f"Dask worker {worker} cannot see {missing[0]}{more}: the evidence must be mounted at "
            "the same path on every worker"
        )
