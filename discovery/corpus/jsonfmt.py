"""JSON corpora, streamed: JSON Lines (one object a line) and JSON documents (a top-level array
of records, or an object holding one, such as an OpenAlex API page {"meta": ..., "results": [...]}).

A document is read through a window over decoded text: `json.JSONDecoder.raw_decode` parses
each record where it lies; when a record crosses the window's end, a small scanner (strings,
escapes and bracket depth; no parsing) finds where it ends, so a record is parsed once, a
malformed one is reported and skipped, and one over `max_record_bytes` is skipped without ever
being held whole. Memory is bounded by that limit, not by the file."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from discovery.corpus.dialects import DIALECTS, guess_dialect
from discovery.corpus.records import CorpusConfig, FormatError, Record, RecordError, build_record, too_large
from discovery.corpus.source import CorruptInput, iter_chunks, iter_lines

RECORD_LISTS = ("results", "records", "papers", "works", "items", "data")  # keys of a list of records
_DECODER = json.JSONDecoder()
_NON_WS = re.compile(r"\S")
_IN_CODE = re.compile(r'["{}\[\]]')
_IN_STRING = re.compile(r'["\\]')
_SCALAR_END = re.compile(r"[,\]}\s]")
# Besides syntax errors: an integer over Python's 4,300-digit limit, and nesting past the recursion limit.
PARSE_ERRORS = (ValueError, RecursionError)
TRUNCATED = "invalid JSON: the file ends inside this record (truncated?)"
TRUNCATED_LIST = "invalid JSON: the file ends before the list closes (truncated?)"


def invalid_json(exc: Exception, start: int) -> str:
    """The reason for a record json could not parse; `start`: where the record starts in the text."""
    if isinstance(exc, json.JSONDecodeError):
        where = f"column {exc.colno}" if start == 0 else f"character {exc.pos - start + 1} of this record"
        return f"invalid JSON: {exc.msg} at {where}"
    return f"invalid JSON: {str(exc).split(';')[0][:120]}"


def to_record(obj, where: str, fmt: str, config: CorpusConfig) -> Record | RecordError:
    if not isinstance(obj, dict):
        return RecordError(where, f"expected a JSON object, found {type(obj).__name__}")
    raw = DIALECTS[fmt](obj, config.max_abstract_chars)
    return RecordError(where, raw) if isinstance(raw, str) else build_record(raw, where, config)


def read_json_lines(path: str | Path, fmt: str, config: CorpusConfig) -> Iterator[Record | RecordError]:
    for line in iter_lines(path, config):
        where = f"line {line.number}"
        if line.text is None:
            yield RecordError(where, too_large(config))
        elif line.text.strip():
            try:
                obj = json.loads(line.text)
            except PARSE_ERRORS as exc:
                yield RecordError(where, invalid_json(exc, 0))
                continue
            yield to_record(obj, where, fmt, config)


class _Scan:
    """Where one JSON value ends, found across window refills without parsing it."""

    def __init__(self):
        self.offset = 0  # how far scanned, relative to the value's start
        self.depth = 0
        self.in_string = False
        self.scalar = None  # a number, true, false or null: ends at the next delimiter

    def end(self, buf: str, start: int) -> int | None:
        i = start + self.offset
        if self.scalar is None:
            self.scalar = buf[start] not in '{["'
        if self.scalar:
            match = _SCALAR_END.search(buf, max(i, start + 1))
            self.offset = len(buf) - start
            return match.start() if match else None
        while True:
            match = (_IN_STRING if self.in_string else _IN_CODE).search(buf, i)
            if match is None:
                self.offset = max(i, len(buf)) - start
                return None
            char, i = match.group(), match.end()
            if char == "\\":
                i += 1  # the escaped character may be a quote
            elif char == '"':
                self.in_string = not self.in_string
                if not self.in_string and self.depth == 0:
                    return i
            elif char in "{[":
                self.depth += 1
            else:
                self.depth -= 1
                if self.depth == 0:
                    return i


class _Window:
    """Decoded text from `chunks` with a read position and the line number at that position;
    white space between values is bounded by `max_blank` characters (a document padded with
    gigabytes of it is a denial of service, not a corpus)."""

    def __init__(self, chunks: Iterator[str], max_blank: int):
        self.chunks, self.buf, self.pos, self.line, self.eof = chunks, "", 0, 1, False
        self.max_blank = max_blank

    def fill(self) -> bool:
        chunk = next(self.chunks, None)
        if chunk is None:
            self.eof = True
            return False
        self.buf, self.pos = self.buf[self.pos:] + chunk, 0
        return True

    def advance(self, to: int) -> None:
        self.line += self.buf.count("\n", self.pos, to)
        self.pos = to

    def peek(self) -> str:
        """The next non-blank character ('' at the end), positioned on it."""
        blank, line = 0, self.line
        while True:
            match = _NON_WS.search(self.buf, self.pos)
            if match:
                self.advance(match.start())
                return self.buf[self.pos]
            blank += len(self.buf) - self.pos
            if blank > self.max_blank:
                raise CorruptInput(f"line {line}", f"over {self.max_blank:,} characters of white space from line "
                                   f"{line:,}: the rest of the file was not read (padded with blank lines?)")
            self.advance(len(self.buf))
            if not self.fill():
                return ""

    def take(self, char: str) -> bool:
        if self.peek() != char:
            return False
        self.advance(self.pos + 1)
        return True

    def value(self, max_bytes: int) -> tuple[object, str | None]:
        """The next JSON value, or (None, why not)."""
        if self.peek() == "":
            return None, TRUNCATED
        try:
            obj, end = _DECODER.raw_decode(self.buf, self.pos)
            if end < len(self.buf) or self.eof:
                self.advance(end)
                return obj, None
        except PARSE_ERRORS:
            pass  # malformed, or cut by the window's end: the scanner tells which
        scan = _Scan()
        while (end := scan.end(self.buf, self.pos)) is None:
            if len(self.buf) - self.pos > max_bytes:
                return None, self._skip(scan, max_bytes)
            if not self.fill():
                if scan.scalar:
                    break
                self.advance(len(self.buf))
                return None, TRUNCATED
        end = max(end or len(self.buf), self.pos + 1)
        try:
            obj, stop = _DECODER.raw_decode(self.buf[:end], self.pos)
            reason = None if stop == end else "invalid JSON: unexpected text inside this record"
        except PARSE_ERRORS as exc:
            obj, reason = None, invalid_json(exc, self.pos)
        self.advance(end)
        return obj, reason

    def _skip(self, scan: _Scan, max_bytes: int) -> str:
        while (end := scan.end(self.buf, self.pos)) is None:
            scan.offset -= len(self.buf) - self.pos  # drop what was scanned
            self.advance(len(self.buf))
            if not self.fill():
                return TRUNCATED
        self.advance(end)
        return f"record too large: over {max_bytes:,} bytes, skipped without reading it whole"


def _items(win: _Window, max_bytes: int, top: bool = False) -> Iterator[tuple[str, object, str | None]]:
    """(location, object, reason) for each item of the array the window is on; `top`: the
    array is the whole document, so text after it is reported."""
    win.take("[")
    n = 0
    while not win.take("]"):
        if win.peek() == "":
            yield f"after record {n} (line {win.line})", None, TRUNCATED_LIST
            return
        n += 1
        where = f"record {n} (line {win.line})"
        obj, reason = win.value(max_bytes)
        yield where, obj, reason
        if reason == TRUNCATED:
            return
        if not win.take(",") and win.peek() not in "]{":  # '{': a missing comma, read on
            yield f"after record {n} (line {win.line})", None, (
                f"invalid JSON: expected ',' or ']', found {win.peek()!r}; the rest of the file was not read")
            return
    if top and win.peek():
        yield f"after record {n} (line {win.line})", None, (
            f"invalid JSON: text after the closing ']' (found {win.peek()!r}) was not read")


def _members(win: _Window, max_bytes: int, path) -> Iterator[tuple[str, object, str | None]]:
    """Items of the record lists in a top-level object; the object itself if it is one record."""
    win.take("{")
    single, found = {}, False
    while not win.take("}"):
        key, reason = win.value(max_bytes)
        if reason or not isinstance(key, str) or not win.take(":"):
            yield f"line {win.line}", None, reason or "invalid JSON: expected a \"key\": value pair"
            return
        if key in RECORD_LISTS and win.peek() == "[":
            found = True
            yield from _items(win, max_bytes)
        else:
            single[key], reason = win.value(max_bytes)
            if reason:
                yield f"line {win.line}", None, reason
                return
        if not win.take(",") and win.peek() != "}":
            yield f"line {win.line}", None, f"invalid JSON: expected ',' or '}}', found {win.peek()!r}"
            return
    if not found:
        if "title" not in single:
            raise FormatError(f"{path}: a JSON object without a list of records (looked for {', '.join(RECORD_LISTS)})")
        yield "record 1 (line 1)", single, None


def read_json_document(path: str | Path, fmt: str, config: CorpusConfig) -> Iterator[Record | RecordError]:
    win = _Window(iter_chunks(path, max_expansion=config.max_expansion), config.max_record_bytes)
    first = win.peek()
    if first not in ("[", "{"):
        raise FormatError(f"{path}: a JSON document must start with '[' or '{{', not {first[:1]!r}")
    limit = config.max_record_bytes
    items = _items(win, limit, top=True) if first == "[" else _members(win, limit, path)
    for where, obj, reason in items:
        yield RecordError(where, reason) if reason else to_record(obj, where, fmt, config)


def sniff_json(sample: str) -> tuple[str, dict | None] | None:
    """('lines' or 'document', the first record if the sample holds it whole); None if not JSON."""
    text = sample.lstrip()
    if not text.startswith(("{", "[")):
        return None
    if text[0] == "[":
        return "document", _first_item(text[1:])
    for line in text.splitlines()[:20]:
        try:
            obj = json.loads(line)
        except PARSE_ERRORS:
            continue
        if isinstance(obj, dict):
            lists = [obj[k] for k in RECORD_LISTS if isinstance(obj.get(k), list)]
            if lists and "title" not in obj:  # one API page on one line
                return "document", next((x for x in lists[0][:1] if isinstance(x, dict)), None)
            return "lines", obj
    # No line parsed: a pretty-printed document ('{' alone, or '{"meta": {' on the first line), an
    # API page on one line longer than the sample, or JSON Lines whose first records are broken.
    first_line = text.split("\n", 1)[0].rstrip()
    page = re.match(r'\{\s*"(?:' + "|".join(RECORD_LISTS) + r'|meta)"', text)
    one_line = "\n" not in text.rstrip()
    return ("lines" if first_line.endswith("}") or (one_line and not page) else "document"), None


def _first_item(text: str) -> dict | None:
    try:
        obj, _ = _DECODER.raw_decode(text, _NON_WS.search(text).start()) if _NON_WS.search(text) else (None, 0)
    except PARSE_ERRORS:
        return None
    return obj if isinstance(obj, dict) else None


def json_dialect(sample: str, first: dict | None) -> str | None:
    if first is not None:
        return guess_dialect(first)
    if re.search(r'"(abstract_inverted_index|authorships)"\s*:', sample):
        return "openalex"
    if re.search(r'"authors_parsed"\s*:', sample):
        return "arxiv"
    return None


def read_json(path: str | Path, fmt: str, config: CorpusConfig, sample: str) -> Iterator[Record | RecordError]:
    """Any JSON corpus: the container (lines or document) is sniffed, `fmt` picks the field mapping."""
    sniffed = sniff_json(sample)
    if sniffed and sniffed[0] == "document":
        return read_json_document(path, fmt, config)
    return read_json_lines(path, fmt, config)
