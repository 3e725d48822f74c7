"""BibTeX, streamed entry by entry. An entry runs from '@type{' to its matching closing brace;
it is parsed as 'key, field = value, ...' where a value is {braced}, "quoted", a number or an
@string macro, joined with '#'. Recovery from unbalanced braces: an entry still open when a line
starting with '@type{' appears (or at the end of the file) is reported and the new entry is read,
so one broken entry costs only itself. @string macros are expanded; @comment and @preamble are
skipped; text outside entries is ignored, as BibTeX does. Entries in parentheses ('@article(...)',
rare) are not read."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from discovery.corpus.records import CorpusConfig, Record, RecordError, build_record, flip_name, too_large
from discovery.corpus.source import iter_lines
from discovery.corpus.text import normalise_text

ENTRY_START = re.compile(r"^\s*@\s*([A-Za-z]+)\s*\{")
_BRACE = re.compile(r"(?<!\\)[{}]")
_QUOTED = re.compile(r'(?<!\\)[{}"]')
_NAME = re.compile(r"\s*([A-Za-z][\w\-:.+/]*)\s*")
_BARE = re.compile(r"\s*([\w\-:.+/]+)\s*")  # a number or a macro name
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_SPACE = re.compile(r"\s*")
MONTHS = {m[:3]: m for m in (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)}
SKIPPED_TYPES = ("comment", "preamble")


class BibtexSyntaxError(ValueError):
    pass


def _group_end(text: str, start: int) -> int:
    """Index after the brace group opening at text[start], or -1 when it never closes."""
    depth = 0
    for match in _BRACE.finditer(text, start):
        depth += 1 if match.group() == "{" else -1
        if depth == 0:
            return match.end()
    return -1


def _quoted_end(text: str, start: int) -> int:
    """Index of the '"' closing the value opened at text[start] (quotes inside braces don't count)."""
    depth = 0
    for match in _QUOTED.finditer(text, start + 1):
        char = match.group()
        if char == '"' and depth == 0:
            return match.start()
        depth += {"{": 1, "}": -1}.get(char, 0)
    return -1


def _value(body: str, pos: int, macros: dict) -> tuple[str, int]:
    """One field value (parts joined by '#') starting at body[pos]; returns it and where it ends.
    Positions move by regex matches, never by slicing the rest of the body: an entry with
    100,000 fields would otherwise cost quadratic time."""
    parts = []
    while True:
        pos = _SPACE.match(body, pos).end()
        char = body[pos:pos + 1]
        if char == "{":
            end = _group_end(body, pos)
            if end < 0:
                raise BibtexSyntaxError("unbalanced braces in a field value")
            parts.append(body[pos + 1:end - 1])
        elif char == '"':
            end = _quoted_end(body, pos)
            if end < 0:
                raise BibtexSyntaxError("unterminated quoted value")
            parts.append(body[pos + 1:end])
            end += 1
        else:
            match = _BARE.match(body, pos)
            if not match:
                raise BibtexSyntaxError(f"expected a value at {body[pos:pos + 20]!r}")
            word, end = match.group(1), match.end()
            parts.append(macros.get(word.casefold(), MONTHS.get(word.casefold(), word)))
        pos = _SPACE.match(body, end).end()
        if not body.startswith("#", pos):
            return "".join(parts), end
        pos += 1


def parse_entry(text: str, macros: dict) -> tuple[str, str, dict[str, str]]:
    """(type, key, fields) of one entry's text '@type{key, name = value, ...}'."""
    start = ENTRY_START.match(text)
    kind = start.group(1).casefold()
    body = text[start.end():].rstrip()[:-1]  # without the closing brace
    fields, pos, key = {}, 0, ""
    if kind != "string":
        key, comma, _ = body.partition(",")
        if not comma and "=" in key:
            raise BibtexSyntaxError("no citation key")
        key, pos = key.strip(), len(key) + 1
    while pos < len(body):
        match = _NAME.match(body, pos)
        if not match:
            if body[pos:].strip(" \t\r\n,"):
                raise BibtexSyntaxError(f"expected a field name at {body[pos:pos + 20].strip()!r}")
            break
        name = match.group(1).casefold()
        if body[match.end():match.end() + 1] != "=":
            raise BibtexSyntaxError(f"expected '=' after field name {name!r}")
        fields[name], pos = _value(body, match.end() + 1, macros)
        pos = body.find(",", pos) + 1 or len(body)
    return kind, key, fields


def bibtex_authors(value: str) -> list[str]:
    """'Last, First and First Last and others' -> names; ' and ' inside braces is part of a name."""
    names, start = [], 0
    for match in _AND.finditer(value):
        if value.count("{", 0, match.start()) == value.count("}", 0, match.start()):
            names.append(value[start:match.start()])
            start = match.end()
    names.append(value[start:])
    return [flip_name(normalise_text(n, drop_braces=True)) for n in names if n.strip().casefold() != "others"]


def _fields(kind: str, key: str, fields: dict[str, str]) -> dict:
    arxiv = fields.get("eprint", "") if fields.get("archiveprefix", "arxiv").casefold() == "arxiv" else ""
    return {
        "title": normalise_text(fields.get("title", ""), drop_braces=True),
        "abstract": fields.get("abstract", ""),
        "authors": bibtex_authors(fields.get("author", "")),
        "year": fields.get("year") or fields.get("date"),
        "venue": normalise_text(fields.get("journal") or fields.get("booktitle") or fields.get("journaltitle") or "",
                                drop_braces=True),
        "doi": fields.get("doi", ""),
        "arxiv_id": arxiv,
        "url": fields.get("url", ""),
        "source_id": key,
    }


def _entries(path: str | Path, config: CorpusConfig) -> Iterator[tuple[int, str | None, str | None]]:
    """(first line, entry text, problem) for each entry, from '@' to its closing brace."""
    lines: list[str] = []
    size, depth, first = 0, 0, 0
    for line in iter_lines(path, config):
        text = line.text
        if lines and text is not None and ENTRY_START.match(text):
            yield first, None, f"unbalanced braces: entry not closed before the entry at line {line.number}"
            lines = []
        if not lines:
            if text is None or not ENTRY_START.match(text):
                continue  # text between entries
            first, size, depth = line.number, 0, 0
            text = text[text.index("@"):]
        if text is None or size + len(text) > config.max_record_bytes:
            yield first, None, too_large(config)
            lines = []
            continue
        end = _entry_end(text, depth)
        depth += sum(1 if b == "{" else -1 for b in _BRACE.findall(text))
        lines.append(text if end < 0 else text[:end])
        size += len(text)
        if end >= 0:
            yield first, "".join(lines), None
            lines = []
    if lines:
        yield first, None, "unbalanced braces: entry not closed at the end of the file"


def _entry_end(text: str, depth: int) -> int:
    """Where an entry with `depth` open braces before this line closes in it, or -1."""
    for match in _BRACE.finditer(text):
        depth += 1 if match.group() == "{" else -1
        if depth == 0:
            return match.end()
    return -1


def read_bibtex(path: str | Path, config: CorpusConfig) -> Iterator[Record | RecordError]:
    macros: dict[str, str] = {}
    number = 0
    for first, text, problem in _entries(path, config):
        kind, key, fields = (ENTRY_START.match(text).group(1).casefold() if text else ""), "", {}
        if kind in SKIPPED_TYPES:
            continue
        if text:
            try:
                kind, key, fields = parse_entry(text, macros)
            except BibtexSyntaxError as exc:
                problem = str(exc)
                key = text.partition("{")[2].partition(",")[0].strip()
        if kind == "string":
            macros.update(fields)  # a broken @string defines nothing; its uses stay bare words
            continue
        number += 1
        where = f"entry {number}" + (f" '{key}'" if key else "") + f" (line {first})"
        yield RecordError(where, problem) if problem else build_record(_fields(kind, key, fields), where, config)
