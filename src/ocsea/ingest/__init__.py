"""Ingest: P2P monitoring exports and search-query logs into the store, streaming and resumable."""
