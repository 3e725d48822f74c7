"""CSV (or TSV, semicolon-separated) with a header row, as spreadsheets and Scopus / Web of
Science exports write it. Columns are matched by name, case and spacing ignored, with a few
aliases ('Source title' is the venue, 'Link' the URL). 'title' and 'abstract' columns are
required: a file without them is the wrong file or the wrong export, reported once for the file
(FormatError) rather than once per row. The delimiter is the one the header row uses most."""
from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from discovery.corpus.records import CorpusConfig, FormatError, Record, RecordError, build_record, too_large
from discovery.corpus.source import iter_lines

COLUMNS = {
    "title": ("title", "paper title", "article title", "document title"),
    "abstract": ("abstract", "summary", "abstract note", "description"),
    "authors": ("authors", "author", "author full names", "creators"),
    "year": ("year", "publication year", "pub year", "date", "published"),
    "venue": ("venue", "journal", "source title", "source", "publication title", "booktitle", "conference"),
    "doi": ("doi",),
    "arxiv_id": ("arxiv id", "arxiv", "eprint"),
    "url": ("url", "link", "pdf url"),
    "source_id": ("id", "paper id", "eid", "key", "accession number"),
}
REQUIRED = ("title", "abstract")
DELIMITERS = ",\t;|"


def column_key(name: str) -> str:
    return " ".join(re.sub(r"[_\s]+", " ", name.removeprefix("\ufeff")).split()).casefold()


def header_fields(header: list[str]) -> dict[str, int]:
    """Record field -> column index, first matching column wins."""
    keys = [column_key(h) for h in header]
    found = {}
    for field, aliases in COLUMNS.items():
        index = next((keys.index(a) for a in aliases if a in keys), None)
        if index is not None:
            found[field] = index
    return found


def delimiter_of(line: str) -> str:
    return max(DELIMITERS, key=line.count)


def read_csv(path: str | Path, config: CorpusConfig) -> Iterator[Record | RecordError]:
    skipped: list[int] = []  # numbers of over-long lines, fed to csv as blank ones
    last = [0]  # number of the last line handed to csv

    def lines() -> Iterator[str]:
        for line in iter_lines(path, config.max_record_bytes):
            last[0] = line.number
            if line.text is None:
                skipped.append(line.number)
            yield "\n" if line.text is None else line.text

    source = lines()
    first = next((text for text in source if text.strip()), "")
    delimiter = delimiter_of(first)
    try:
        header = next(csv.reader([first], delimiter=delimiter), [])
    except csv.Error as exc:
        raise FormatError(f"{path}: the CSV header cannot be read: {exc}") from exc
    columns = header_fields(header)
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        raise FormatError(f"{path}: the CSV header has no {' or '.join(missing)} column "
                          f"(found: {', '.join(h.strip() for h in header) or 'nothing'})")
    rows = csv.reader(source, delimiter=delimiter)
    number = 0
    while True:
        where = f"row {number + 1} (line {last[0] + 1})"
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a field over csv's 131,072-character limit
            number += 1
            yield RecordError(where, f"invalid CSV: {exc}")
            continue
        if skipped:
            number += 1
            yield RecordError(f"row {number} (line {skipped[0]})", too_large(config))
            skipped.clear()
        elif any(cell.strip() for cell in row):
            number += 1
            yield build_record({field: row[i] if i < len(row) else "" for field, i in columns.items()}, where, config)
