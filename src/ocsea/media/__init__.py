"""Media hashing: cryptographic digests, PDQ for images, vPDQ for video."""
