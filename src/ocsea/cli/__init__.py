"""The ``ocsea`` command line (Typer + Rich), one module per area: ``app`` (the root, text
detection and the demo), ``media`` (hashes, lists, matching, scans), ``triage`` (ingest, triage,
terms, reports), ``service`` (serve, users, API keys, audit), ``cases`` (referrals, networks,
cases, cross-border requests); ``common`` holds what they share. Thin adapters: the work is in
the pure core."""

from ocsea.cli.app import app, main

__all__ = ["app", "main"]
