"""The root of the ``ocsea`` command: its options, the demo, and every area's commands (the
other modules of this package) registered on it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ocsea import __version__

app = typer.Typer(
    name="ocsea",
    help="Find, triage and refer online child sexual exploitation and abuse (OCSEA).\n\n"
    "Exit codes: 0 all done; 1 some inputs failed or were rejected (named on stderr); "
    "2 nothing done (usage, unreadable input, no database).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_areas() -> None:
    from ocsea.cli.common import plain_metavars

    plain_metavars()
    from ocsea.cli import cases, media, media_risk, service, text, triage

    text.register(app)
    media.register(app)
    media_risk.register(app)
    triage.register(app)
    service.register(app)
    cases.register(app)


_register_areas()

err = Console(stderr=True, soft_wrap=True)  # error lines stay whole (logs, grep)
out = Console()
_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ocsea {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Report directory.")] = Path("demo-out"),
    top: Annotated[int, typer.Option(min=1, max=1000, help="Findings shown.")] = 15,
    text_only: Annotated[
        bool, typer.Option("--text-only", help="Only the text-detection part.")
    ] = False,
) -> None:
    """The whole story on synthetic data: text detection on bundled samples, then a hash list,
    a scan, P2P and query-log ingest, triage and reports. Prints where the report is."""
    from ocsea.demo import run_demo

    run_demo(out_dir, top, out, err, end_to_end=not text_only)


def main() -> None:
    try:
        app()
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(130)
    except Exception as exc:  # one clear line unless --debug
        if _state["debug"] or "--debug" in sys.argv:
            raise
        from ocsea.cli.common import EXIT_NOTHING_DONE, plain_error

        err.print(f"[red]error:[/] {escape(plain_error(exc) or str(exc))}", highlight=False)
        sys.exit(EXIT_NOTHING_DONE)
