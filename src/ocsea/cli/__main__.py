"""``python -m ocsea.cli``: the ``ocsea`` command."""

from ocsea.cli.app import main

main()
