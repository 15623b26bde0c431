"""What every CLI command shares: the exit-code convention, read-only commands, plain-word errors.

Exit codes (``ocsea --help`` says the same):
- 0: everything asked was done;
- 1: some inputs failed or were rejected (each named on stderr with its file and line);
- 2: nothing was done: a usage error, an unreadable input, no database.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from distributed import Client

    from ocsea.cluster.spec import ClusterSpec

EXIT_OK, EXIT_SOME_FAILED, EXIT_NOTHING_DONE = 0, 1, 2
EXIT_CODES_HELP = (
    "Exit codes: 0 all done; 1 some inputs failed or were rejected (named on stderr); "
    "2 nothing done (usage, unreadable input, no database)."
)

F = TypeVar("F", bound=Callable)


def finish(done: int, failed: int) -> None:
    """Exit by the convention: 1 when some inputs failed, 2 when all did."""
    if failed and not done:
        raise typer.Exit(EXIT_NOTHING_DONE)
    if failed:
        raise typer.Exit(EXIT_SOME_FAILED)


def read_only(fn: F) -> F:
    """A command that only reads: it never creates a database (a typo'd path is an error)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from ocsea.store.db import READ_ONLY

        token = READ_ONLY.set(True)
        try:
            return fn(*args, **kwargs)
        finally:
            READ_ONLY.reset(token)

    return wrapper  # type: ignore[return-value]


def plain_error(exc: BaseException) -> str | None:
    """A one-line message for errors users meet (database unreachable, missing, wrong URL)."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    if isinstance(exc, OperationalError):
        orig = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        if orig == "database is locked":
            # SQLite has one writer at a time: a national-size hash list import holds it for
            # minutes, longer than another writer waits (or SQLite gives up at once, where two
            # transactions would deadlock).
            return ("the database is busy with another write (a hash list import, a scan?): "
                    "SQLite takes one writer at a time; run this again when that ends, or use "
                    "PostgreSQL for writers at the same time")  # fmt: skip
        return f"the database cannot be used: {orig}"
    if isinstance(exc, NoSuchModuleError | ArgumentError):
        return (f"not a database URL or path: {exc}. Use a file path, sqlite:///PATH or "
                "postgresql://user@host/db")  # fmt: skip
    return None


_WORDS = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "path": "PATH", "int range": "INTEGER",
          "float range": "NUMBER", "datetime": "TIME", "date": "DATE"}  # fmt: skip


def plain_metavars() -> None:
    """Help shows value kinds in words (TEXT, PATH…), no Python type names (``<list[Path]>``,
    ``<bool>`` on flags): Typer 0.29 prints those by default."""
    from typer import core

    def humane(original):
        def display(self, ctx):
            if getattr(self, "metavar", None) is not None:
                return self.metavar
            got = original(self, ctx)
            if got is None:
                return None
            text = str(got).strip("<>").removesuffix("...")
            many = text.startswith("list[") or str(got).endswith("...")
            text = text.removeprefix("list[").removesuffix("]").strip("<>")
            if text == "bool":
                return None
            word = f"[{text}]" if "|" in text else _WORDS.get(text.lower(), text.upper())
            return word + ("…" if many else "")

        return display

    for cls in (core.TyperOption, core.TyperArgument):
        if not getattr(cls.display_type_rich, "_ocsea", False):
            patched = humane(cls.display_type_rich)
            patched._ocsea = True
            cls.display_type_rich = patched


# ---- --dask: batch commands on a Dask cluster (ocsea.cluster, docs/scale.md) ----------------------
DaskOption = Annotated[
    str | None,
    typer.Option(
        "--dask",
        envvar="OCSEA_DASK",
        metavar="SPEC",
        help="Run on Dask: tcp://HOST:PORT (a running scheduler; docs/scale.md says what its "
        "workers must share) or local:N (N worker processes here). Output as without.",
    ),
]


def cluster_spec(text: str | None) -> ClusterSpec | None:
    """The ``--dask`` spec (or ``OCSEA_DASK``); None, and no Dask import, without one."""
    if not text:
        return None
    from ocsea.cluster.spec import ClusterError, parse_spec

    try:
        return parse_spec(text)
    except ClusterError as exc:
        cluster_failed(exc)


@contextmanager
def cluster_client(spec: ClusterSpec) -> Iterator[Client]:
    """A Dask client for the spec; a ``--dask`` problem, here or in the work done with it, ends
    the command as ``cluster_failed`` says."""
    from ocsea.cluster.connect import dask_client
    from ocsea.cluster.spec import ClusterError

    try:
        with dask_client(spec) as client:
            yield client
    except ClusterError as exc:
        cluster_failed(exc)


def cluster_failed(exc: Exception) -> NoReturn:
    """A ``--dask`` problem as one line on stderr, exit 2 (``--debug``: the traceback)."""
    from rich.console import Console
    from rich.markup import escape

    if "--debug" in sys.argv:
        raise exc
    Console(stderr=True, soft_wrap=True).print(
        f"[red]error:[/] {escape(str(exc))}", highlight=False, emoji=False
    )  # one line, whole
    raise typer.Exit(EXIT_NOTHING_DONE)
