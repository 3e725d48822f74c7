"""Writes for papers and import jobs (the HackSoftware styleguide: `<entity>_<action>`)."""
from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from discovery.corpus import FORMATS, FormatError, Record, RecordError, count_records, detect_format, fingerprint, read_records
from webapp.papers.jobs import job_claim
from webapp.papers.models import MAX_FAILURES_KEPT, ImportJob, JobStatus, Paper

log = logging.getLogger(__name__)

# Record fields copied onto a Paper, with the column's length limit (None: unlimited).
_FIELDS = {"title": None, "abstract": None, "authors": None, "year": None, "venue": 300, "doi": 200,
           "arxiv_id": 50, "url": 1000, "source_id": 200}


class ImportRejected(ValueError):
    """The file cannot be imported at all (unreadable, unknown format); names the problem."""


def import_job_create(*, path: str, filename: str = "", fmt: str = "", owner=None, enqueue: bool = True) -> ImportJob:
    if fmt and fmt not in FORMATS:
        raise ImportRejected(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        raise ImportRejected(f"{path}: no such readable file")
    job = ImportJob.objects.create(owner=owner, path=os.path.abspath(path), filename=filename or os.path.basename(path),
                                   format=fmt)
    if enqueue:
        from worker.tasks import import_run

        transaction.on_commit(lambda: import_run.delay(job.pk))
    return job


def import_job_claim(*, job_id: int, token: str) -> bool:
    return job_claim(ImportJob.objects.filter(pk=job_id), token=token)


@dataclass
class _BatchResult:
    papers: list[Paper] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failures: list[dict] = field(default_factory=list)


def import_job_run(*, job_id: int, on_batch: Callable[[ImportJob], None] | None = None) -> ImportJob | None:
    """Import the job's file, resuming after the records already committed. Returns None when
    another worker holds the job."""
    token = uuid.uuid4().hex
    if not import_job_claim(job_id=job_id, token=token):
        log.info("import job %s is held elsewhere or finished; nothing to do", job_id)
        return None
    job = ImportJob.objects.get(pk=job_id)
    try:
        fmt = job.format or detect_format(job.path)
        if not job.total:
            job.total = count_records(job.path, fmt)
            ImportJob.objects.filter(pk=job.pk).update(total=job.total)
        for batch in _batches(read_records(job.path, fmt), start=job.done, size=settings.IMPORT_BATCH_SIZE):
            if not _commit_batch(job, token, batch):
                log.warning("import job %s was taken over by another worker; stopping", job_id)
                return None
            job.refresh_from_db()
            if on_batch:
                on_batch(job)
    except (FormatError, OSError, EOFError) as exc:
        return _job_fail(job, token, f"{job.filename}: {exc}")
    return _job_finish(job, token)


def _batches(items: Iterator, *, start: int, size: int) -> Iterator[list[tuple[int, Record | RecordError]]]:
    """Numbered items in batches, skipping the `start` items a previous run committed."""
    batch = []
    for position, item in enumerate(items):
        if position < start:
            continue
        batch.append((position, item))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _commit_batch(job: ImportJob, token: str, batch: list[tuple[int, Record | RecordError]]) -> bool:
    """Upsert one batch and advance the job row in the same transaction, so a crash leaves
    whole batches only and a rerun resumes exactly after the last one."""
    with transaction.atomic():
        if not ImportJob.objects.select_for_update().filter(pk=job.pk, claim=token).exists():
            return False
        result = papers_upsert(items=batch, source=job.filename)
        failures = (job.failures + result.failures)[:MAX_FAILURES_KEPT]
        done = batch[-1][0] + 1
        # The pre-count may be approximate (malformed lines); never show more done than total.
        ImportJob.objects.filter(pk=job.pk).update(
            done=done, total=Greatest(F("total"), done), created=F("created") + result.created, updated=F("updated") + result.updated,
            skipped=F("skipped") + result.skipped, failed=F("failed") + len(result.failures),
            failures=failures, heartbeat=timezone.now())
    return True


def papers_upsert(*, items: Iterable[tuple[int, Record | RecordError]], source: str) -> _BatchResult:
    """Create new papers and fill in changed ones, deduplicated by fingerprint, DOI and arXiv id."""
    result = _BatchResult()
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
    result.papers = created + changed
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


def _job_fail(job: ImportJob, token: str, message: str) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk, claim=token).update(status=JobStatus.FAILED, error=message,
                                                           finished_at=timezone.now())
    job.refresh_from_db()
    return job


def _job_finish(job: ImportJob, token: str) -> ImportJob:
    """Done, or on to indexing: new and changed papers go to the workers in chunks."""
    index = settings.INDEX_AFTER_IMPORT
    ImportJob.objects.filter(pk=job.pk, claim=token).update(
        status=JobStatus.INDEXING if index else JobStatus.DONE, heartbeat=timezone.now(), total=F("done"),
        finished_at=None if index else timezone.now())
    if index:
        from worker.tasks import index_plan

        transaction.on_commit(lambda: index_plan.delay(job.pk))
    job.refresh_from_db()
    return job


def job_fail(*, job_id: int | None, message: str) -> None:
    if job_id is not None:
        ImportJob.objects.filter(pk=job_id).update(status=JobStatus.FAILED, error=message, finished_at=timezone.now())


def import_jobs_requeue_stale() -> list[int]:
    """Jobs whose worker died (killed, machine lost) go back on the queue; the claim (import)
    and idempotent chunks (indexing) make a duplicate delivery harmless."""
    from worker.tasks import import_run, index_plan

    stale = timezone.now() - timezone.timedelta(seconds=settings.JOB_STALE_AFTER_S)
    silent = ImportJob.objects.filter(Q(heartbeat__lt=stale) | Q(heartbeat=None), created_at__lt=stale)
    importing = list(silent.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).values_list("pk", flat=True))
    indexing = list(silent.filter(status=JobStatus.INDEXING).values_list("pk", flat=True))
    for job_id in importing:
        import_run.delay(job_id)
    for job_id in indexing:
        index_plan.delay(job_id)
    return importing + indexing
