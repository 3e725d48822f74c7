"""Browser views of the library, digests and novelty watch."""
