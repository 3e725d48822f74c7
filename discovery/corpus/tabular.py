"""CSV (or TSV, semicolon-separated) with a header row, as spreadsheets and Scopus / Web of
Science exports write it. Columns are matched by name, case and spacing ignored, with a few
aliases ('Source title' is the venue, 'Link' the URL). 'title' and 'abstract' columns are
required: a file without them is the wrong file or the wrong export, reported once for the file
(FormatError) rather than once per row. The delimiter is the one the header row uses most.

Rows are cut from lines here, not by csv itself, so that a broken row costs only itself: a quoted
field may span lines (abstracts with paragraphs), but a multi-line row that does not come out
with the header's number of cells and a one-line title is an unterminated quote: it is reported
and the lines after its first are read again as rows. A quoted field still open after
max_record_bytes or max_field_lines is reported too: when the lines it swallowed look like rows
they are read again, else it is an oversized field and is skipped to its closing quote without
being held in memory."""
from __future__ import annotations

import csv
import re
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from discovery.corpus.records import CorpusConfig, FormatError, Record, RecordError, build_record, too_large
from discovery.corpus.source import CorruptInput, Line, iter_lines

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


UNTERMINATED = "unterminated quote: the quoted field opened in this row runs into the rows after it"
ROWS_SAMPLED = 20  # continuation lines looked at to tell swallowed rows from one huge field


class Row(NamedTuple):
    line: int  # where the row starts
    cells: list[str] | None  # None: rejected, for `problem`
    problem: str = ""


def quoted_after(text: str, delimiter: str, quoted: bool) -> bool:
    """Whether a line that starts inside a quoted field (`quoted`) or at a field's start ends
    inside one, by csv's rules: a quote opens a field only as its first character, '""' inside
    is an escaped quote, a quote anywhere else is text. It jumps from quote to quote, so a line
    without one costs a single find."""
    i = 0
    while True:
        j = text.find('"', i)
        if quoted:
            if j < 0:
                return True
            if text.startswith('"', j + 1):
                i = j + 2
                continue
            quoted = False
        elif j < 0:
            return False
        elif (j == 0 and i == 0) or text[j - 1] == delimiter:
            quoted = True
        i = j + 1


class RowReader:
    """Rows from a CSV file's lines after the header (see the module docstring)."""

    def __init__(self, lines: Iterator[Line], delimiter: str, width: int, title_at: int, config: CorpusConfig):
        self.lines, self.delimiter, self.width, self.title_at, self.config = lines, delimiter, width, title_at, config
        self.again: deque[Line] = deque()  # lines to read again, one row each, after a broken quote

    def __iter__(self) -> Iterator[Row]:
        while True:
            again = bool(self.again)
            line = self.again.popleft() if again else next(self.lines, None)
            if line is None:
                return
            if line.text is None:
                yield Row(line.number, None, too_large(self.config))
            elif not line.text.strip():
                continue
            elif not quoted_after(line.text, self.delimiter, False):
                yield self.parse(line.number, [line.text])
            elif again:  # no second multi-line reading of lines already read as one
                yield Row(line.number, None, UNTERMINATED)
            else:
                yield self.multi_line(line)

    def multi_line(self, first: Line) -> Row:
        held, size = [first], len(first.text)
        while True:
            line = next(self.lines, None)
            if line is None:
                self.again.extend(held[1:])
                return Row(first.number, None, UNTERMINATED + " (the file ends inside it)")
            held.append(line)
            size += len(line.text or "")
            if line.text is None or size > self.config.max_record_bytes or len(held) > self.config.max_field_lines:
                return self.oversized(held)
            if not quoted_after(line.text, self.delimiter, True):
                row = self.parse(first.number, [h.text for h in held])
                if row.problem == UNTERMINATED:
                    self.again.extend(held[1:])
                return row

    def oversized(self, held: list[Line]) -> Row:
        first = held[0].number
        if self.rows_like(held[1:]):
            self.again.extend(held[1:])
            return Row(first, None, UNTERMINATED)
        last = held[-1]
        while last.text is None or quoted_after(last.text, self.delimiter, True):
            last = next(self.lines, None)
            if last is None:
                return Row(first, None, f"{UNTERMINATED}: its lines {first:,} to the end of the file were not read")
        return Row(first, None, f"{too_large(self.config)}: a quoted field over {self.config.max_field_lines:,} lines "
                                f"or {self.config.max_record_bytes:,} bytes, lines {first:,}-{last.number:,}")

    def rows_like(self, lines: list[Line]) -> bool:
        """Whether lines a quoted field swallowed read as rows of this table on their own."""
        sample = [line.text for line in lines[:ROWS_SAMPLED] if line.text is not None and line.text.strip()]
        rows = [self.parse(0, [text]) for text in sample]
        fits = sum(1 for r in rows if r.cells is not None and len(r.cells) == self.width and self.title(r.cells))
        return fits > 0 and 2 * fits >= len(sample)

    def parse(self, line: int, texts: list[str]) -> Row:
        try:
            rows = list(csv.reader(texts, delimiter=self.delimiter))
        except csv.Error as exc:  # e.g. a field over csv's 131,072-character limit
            return Row(line, None, f"invalid CSV: {exc}")
        cells = rows[0] if rows else []
        if len(texts) > 1 and not (len(rows) == 1 and self.whole(cells)):
            return Row(line, None, UNTERMINATED)
        return Row(line, cells)

    def whole(self, cells: list[str]) -> bool:
        """A multi-line row must have the header's cells (extra ones empty) and a one-line title."""
        extra = cells[self.width:]
        return len(cells) >= self.width and not any(c.strip() for c in extra) and "\n" not in self.title(cells)

    def title(self, cells: list[str]) -> str:
        return cells[self.title_at] if self.title_at < len(cells) else ""


def csv_table(path: str | Path, config: CorpusConfig) -> tuple[dict[str, int], RowReader]:
    """The header's field -> column map and the rows after it; FormatError without the needed columns."""
    lines = iter_lines(path, config)
    first = next((line.text for line in lines if line.text is not None and line.text.strip()), "")
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
    return columns, RowReader(lines, delimiter, len(header), columns["title"], config)


def read_csv(path: str | Path, config: CorpusConfig) -> Iterator[Record | RecordError]:
    columns, rows = csv_table(path, config)
    number = 0
    for row in rows:
        if row.cells is not None and not any(cell.strip() for cell in row.cells):
            continue
        number += 1
        where = f"row {number} (line {row.line})"
        if row.cells is None:
            yield RecordError(where, row.problem)
        else:
            raw = {field: row.cells[i] if i < len(row.cells) else "" for field, i in columns.items()}
            yield build_record(raw, where, config)


def count_csv(path: str | Path, config: CorpusConfig) -> int:
    """The number of items read_csv yields (0 for a file it rejects), for a progress bar."""
    count = 0
    try:
        for row in csv_table(path, config)[1]:
            count += row.cells is None or any(cell.strip() for cell in row.cells)
    except (FormatError, CorruptInput):
        pass  # read_records reports it; count what could be read
    return count
