"""Triage: one explainable priority for findings, sharers and query terms."""
