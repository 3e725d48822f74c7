"""Format detection from content, never from the file name (uploads arrive as 'upload.tmp'):
the first CorpusConfig.sample_bytes of the decompressed text are sniffed, in an order where each
test is specific enough not to claim another format's files: JSON (and within it the arXiv and
OpenAlex dialects, by keys only they use), BibTeX ('@type{' at a line start), RIS ('TY  -'),
CSV (a header naming known columns, or a regular table), then title/abstract plain text."""
from __future__ import annotations

import csv
import re
from pathlib import Path

from discovery.corpus.jsonfmt import json_dialect, sniff_json
from discovery.corpus.records import CorpusConfig, FormatError
from discovery.corpus.source import read_sample
from discovery.corpus.tabular import COLUMNS, column_key, delimiter_of

EXPECTED = "expected JSON, JSON Lines, CSV with a header, BibTeX, RIS, arXiv or OpenAlex JSON, or title/abstract lines"
# [ \t], not \s: '\s*' spans lines, and on a sample of blank lines that is quadratic (2 s for 64 KB)
_BIBTEX = re.compile(r"^[ \t]*@[ \t]*[A-Za-z]+[ \t]*\{", re.MULTILINE)
_RIS = re.compile(r"^TY\s{1,2}-", re.MULTILINE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_KNOWN_COLUMNS = {alias for field in ("title", "abstract") for alias in COLUMNS[field]}


def _is_csv(lines: list[str]) -> bool:
    delimiter = delimiter_of(lines[0])
    if delimiter not in lines[0]:
        return False
    try:
        header, second = (next(csv.reader([line], delimiter=delimiter), []) for line in lines[:2])
    except csv.Error:  # a stray carriage return: not a table we could read anyway
        return False
    if _KNOWN_COLUMNS & {column_key(h) for h in header}:
        return True
    # Unknown columns: still a table if the header is short names and the next row lines up,
    # so that reading it says which columns are missing instead of pairing lines as text.
    return len(header) >= 3 and len(second) == len(header) and all(0 < len(h.strip()) <= 40 for h in header)


def _why_not(text: str) -> str:
    if text.startswith("%PDF"):
        return "it is a PDF"
    if text.startswith("PK\x03\x04"):
        return "it is a zip archive; unzip it first"
    head = text[:4096]
    if "\x00" in head or len(_CONTROL.findall(head)) > len(head) // 100:  # a stray form feed is text
        return "it is binary, not text"
    if text.startswith("<"):
        return "it looks like XML or HTML"
    return ""


def sniff_format(sample: str, path: str | Path, config: CorpusConfig | None = None) -> str:
    config = config or CorpusConfig()
    text = sample.lstrip()
    problem = "it is empty" if not text else _why_not(text)
    if problem:
        raise FormatError(f"cannot tell the format of {path}: {problem} ({EXPECTED})")
    json_kind = sniff_json(text)
    if json_kind:
        container, first = json_kind
        return json_dialect(text, first) or ("jsonl" if container == "lines" else "json")
    if _BIBTEX.search(text):
        return "bibtex"
    if _RIS.search(text):
        return "ris"
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) >= 2 and _is_csv(lines[:2]):
        return "csv"
    if len(lines) >= 2 and len(lines[0]) <= config.max_title_chars:
        return "text"
    if len(lines) < 2 and len(sample) >= config.sample_bytes:
        why = f"its first line is over {config.sample_bytes:,} characters long (give the format to read it)"
    else:
        why = "a single line of text" if len(lines) < 2 else "its first line is too long to be a title"
    raise FormatError(f"cannot tell the format of {path}: {why} ({EXPECTED})")


def detect_format(path: str | Path, config: CorpusConfig | None = None) -> str:
    """One of FORMATS, from the file's content (decompressed when gzip, bzip2 or xz)."""
    config = config or CorpusConfig()
    return sniff_format(read_sample(path, config.sample_bytes), path, config)
