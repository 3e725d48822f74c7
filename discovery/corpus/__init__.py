"""Streaming corpus readers: papers from JSON Lines / JSON, CSV, BibTeX, RIS, the arXiv metadata
snapshot, OpenAlex works and title/abstract plain text, optionally gzip-, bzip2- or
xz-compressed; the format is detected from the content. Each file becomes a stream of `Record`s
(titles and abstracts normalised from LaTeX and HTML to plain text) and `RecordError`s (a bad
record never stops the others), read in constant memory.

    from discovery.corpus import read_records, fingerprint
    for item in read_records("papers.jsonl.gz"):
        ...

Hostile files are bounded (source.py, tabular.py): compression bombs, floods of blank lines,
huge lines and fields, broken quoting; `python -m discovery.corpus.hostile` reads 50 such files
and `python -m discovery.corpus.fuzz --seconds 30` fuzzes every reader.
"""
from discovery.corpus.detect import detect_format
from discovery.corpus.readers import FORMATS, count_records, read_records
from discovery.corpus.records import (
    FINGERPRINT_MAX_CHARS,
    CorpusConfig,
    FormatError,
    Record,
    RecordError,
    dedup_keys,
    fingerprint,
)
from discovery.corpus.text import normalise_text

__all__ = [
    "FINGERPRINT_MAX_CHARS", "FORMATS", "CorpusConfig", "FormatError", "Record", "RecordError", "count_records",
    "dedup_keys", "detect_format", "fingerprint", "normalise_text", "read_records",
]
