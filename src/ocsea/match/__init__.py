"""Matching against known material: exact digests, PDQ near-duplicates, vPDQ video."""
