"""Writes for papers: the deduplicating upsert of a batch of corpus records (the HackSoftware
styleguide: `<entity>_<action>`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from django.db.models import Q

from discovery.corpus import Record, RecordError, fingerprint
from webapp.papers.models import Paper

# Record fields copied onto a Paper, with the column's length limit (None: unlimited).
_FIELDS = {"title": None, "abstract": None, "authors": None, "year": None, "venue": 300, "doi": 200,
           "arxiv_id": 50, "url": 1000, "source_id": 200}


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failures: list[dict] = field(default_factory=list)


def papers_upsert(*, items: Iterable[tuple[int, Record | RecordError]], source: str) -> BatchResult:
    """Create new papers and fill in changed ones, deduplicated by fingerprint, DOI and arXiv id."""
    result = BatchResult()
    records = []
    for position, item in items:
        problem = item.reason if isinstance(item, RecordError) else _invalid(item)
        if problem:
            location = item.location if isinstance(item, RecordError) else f"record {position + 1}"
            result.failures.append({"location": location, "reason": problem})
        else:
            records.append(item)
    existing = _existing_papers(records)
    seen: set[int | str] = set()
    created, changed = [], []
    for record in records:
        fp = fingerprint(record)
        paper = existing.get(fp) or existing.get(f"doi:{record.doi}") or existing.get(f"arxiv:{record.arxiv_id}")
        key = paper.pk if paper else fp
        if key in seen:
            result.skipped += 1
            continue
        seen.add(key)
        if paper is None:
            created.append(Paper(fingerprint=fp, source=source[:300], **_fields(record)))
        elif _merge(paper, record):
            changed.append(paper)
        else:
            result.skipped += 1
    Paper.objects.bulk_create(created, batch_size=500)
    if changed:
        Paper.objects.bulk_update(changed, [*_FIELDS, "indexed_hash"], batch_size=500)
    result.created, result.updated = len(created), len(changed)
    return result


def _invalid(record: Record) -> str:
    if not record.title.strip():
        return "missing title"
    for name, limit in _FIELDS.items():
        value = getattr(record, name)
        if limit and isinstance(value, str) and len(value) > limit:
            return f"{name} longer than {limit} characters"
    if record.year is not None and not 1000 <= record.year <= 2100:
        return f"implausible year {record.year}"
    return ""


def _fields(record: Record) -> dict:
    return {name: getattr(record, name) for name in _FIELDS}


def _existing_papers(records: list[Record]) -> dict[str, Paper]:
    fps = [fingerprint(r) for r in records]
    dois = [r.doi for r in records if r.doi]
    arxiv = [r.arxiv_id for r in records if r.arxiv_id]
    found: dict[str, Paper] = {}
    for paper in Paper.objects.filter(Q(fingerprint__in=fps) | Q(doi__in=dois) | Q(arxiv_id__in=arxiv)):
        found[paper.fingerprint] = paper
        if paper.doi:
            found.setdefault(f"doi:{paper.doi}", paper)
        if paper.arxiv_id:
            found.setdefault(f"arxiv:{paper.arxiv_id}", paper)
    return found


def _merge(paper: Paper, record: Record) -> bool:
    """Take the record's non-empty values; True if anything changed."""
    changed = False
    for name, value in _fields(record).items():
        if value not in ("", None, []) and getattr(paper, name) != value:
            setattr(paper, name, value)
            changed = True
    if paper.needs_indexing:
        paper.indexed_hash = ""  # new text: segment and embed it again
    return changed
