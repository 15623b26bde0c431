"""``ocsea scan``: triage a seized drive or export folder against hash lists and the text detector."""
