"""Benchmarks and evaluations: python -m discovery.bench.<ingest|search|novelty|ideas|csfcube|corpus>; they import the library, never the reverse."""
