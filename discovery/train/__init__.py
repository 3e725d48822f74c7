"""Training scripts: python -m discovery.train.<segmenter|aspects|transitions>; they import the library, never the reverse."""
