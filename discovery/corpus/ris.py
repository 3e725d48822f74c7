"""RIS (the tagged format of EndNote, Zotero, Mendeley and publishers' "export citation"):
'TY  - JOUR' opens a record, 'XX  - value' lines fill it, 'ER  - ' closes it; an untagged line
continues the previous field. A record left open by the next 'TY' is kept (it is whole; only the
'ER' is missing); one left open at the end of the file is reported, since a file that stops
mid-record has probably lost the end of that record's abstract."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from discovery.corpus.records import CorpusConfig, Record, RecordError, build_record, too_large
from discovery.corpus.source import iter_lines

TAG = re.compile(r"^([A-Z][A-Z0-9])\s{1,2}-(?: (.*)|\s*)$")
FIELDS = {  # record field -> RIS tags, first present wins
    "title": ("TI", "T1", "CT"),
    "abstract": ("AB", "N2"),
    "year": ("PY", "Y1", "DA"),
    "venue": ("T2", "JF", "JO", "BT", "JA", "J2"),
    "doi": ("DO",),
    "source_id": ("ID", "AN"),
}


def ris_fields(tags: dict[str, list[str]]) -> dict:
    raw = {field: next((" ".join(tags[t]) for t in names if tags.get(t)), "") for field, names in FIELDS.items()}
    raw["authors"] = tags.get("AU") or tags.get("A1") or []
    urls = tags.get("UR") or tags.get("L2") or [""]  # a record may list several
    raw["url"], raw["arxiv_id"] = urls[0], next((u for u in urls if "arxiv.org/" in u), "")
    return raw


def read_ris(path: str | Path, config: CorpusConfig) -> Iterator[Record | RecordError]:
    tags: dict[str, list[str]] | None = None
    number = first = size = 0
    last = ""
    for line in iter_lines(path, config):
        match = TAG.match(line.text.rstrip("\r\n")) if line.text is not None else None
        tag = match.group(1) if match else ""
        if tag == "TY" and tags is not None:
            if "" not in tags:
                yield build_record(ris_fields(tags), f"record {number} (line {first})", config)
            tags = None
        if tags is None:
            if not match or tag == "ER":
                continue  # blank lines or junk between records
            tags, number, first, size, last = {}, number + 1, line.number, 0, ""
        size += len(line.text or "")
        if line.text is None or size > config.max_record_bytes:
            yield RecordError(f"record {number} (line {first})", too_large(config))
            tags = {"": []}  # swallow the rest of this record
            continue
        if tag == "ER":
            if "" not in tags:
                yield build_record(ris_fields(tags), f"record {number} (line {first})", config)
            tags = None
        elif match:
            last = tag
            tags.setdefault(tag, []).append((match.group(2) or "").strip())
        elif line.text.strip() and last:
            tags[last][-1] += " " + line.text.strip()  # a value wrapped onto the next line
    if tags is not None and "" not in tags:
        reason = "record not closed by 'ER  -' at the end of the file (truncated?)"
        yield RecordError(f"record {number} (line {first})", reason)
