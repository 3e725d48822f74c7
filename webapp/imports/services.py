"""Writes for import jobs: store an upload, create the job, run it (read the file in batches into
papers, resumable), then plan, track and publish its indexing (the HackSoftware styleguide:
`<entity>_<action>`). The claim, heartbeat and failure handling are webapp.jobs.lifecycle's."""
from __future__ import annotations

import logging
import os
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone

from discovery.corpus import FORMATS, FormatError, Record, RecordError, count_records, detect_format, read_records
from webapp.imports.models import MAX_FAILURES_KEPT, ImportJob, Stage
from webapp.jobs.lifecycle import (JobRun, LostClaim, job_claim, job_enqueue, job_fail, job_new_token,
                                   job_running, job_work, task_send)
from webapp.jobs.models import JobStatus
from webapp.papers import indexing
from webapp.papers.services import papers_upsert

log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Papers embedded and counted at a time within an indexing chunk: the bar moves every few
# seconds, and a dead worker's successor redoes at most this many.
INDEX_STEP = 64
# A batch that conflicted with another writer of papers is tried this many times in all.
BATCH_TRIES = 4
# The advisory lock (PostgreSQL) that import batches take in turn: any constant, the same everywhere.
PAPERS_WRITE_LOCK = 0x1DEA_0001


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
        job_enqueue(job)
    return job


def import_job_run(*, job_id: int, on_batch: Callable[[ImportJob], None] | None = None) -> ImportJob | None:
    """Import the job's file, resuming after the records already committed. Returns None when
    another worker holds the job."""
    token = job_new_token()
    if not job_claim(ImportJob, job_id, token):
        log.info("import job %s is held elsewhere, finished or out of attempts; nothing to do", job_id)
        return None
    job = ImportJob.objects.get(pk=job_id)
    with job_running(job, token) as run:
        try:
            _import(run, on_batch)
        except (FormatError, OSError, EOFError) as exc:
            job_fail(job, f"{job.filename}: {exc}", token=token)
    return run.result()


def _import(run: JobRun, on_batch) -> None:
    job = run.job
    fmt = job.format or detect_format(job.path)
    if not job.total:
        run.stage(Stage.COUNTING)
        job.total = count_records(job.path, fmt)
        run.update(total=job.total)
    run.stage(Stage.IMPORTING)
    for batch in _batches(read_records(job.path, fmt), start=job.done, size=settings.IMPORT_BATCH_SIZE):
        _commit_batch(run, batch)
        job.refresh_from_db()
        if on_batch:
            on_batch(job)
    _job_finish(run)


def _batches(items: Iterator, *, start: int, size: int,
             max_s: float = 2.0) -> Iterator[list[tuple[int, Record | RecordError]]]:
    """Numbered items in batches of `size`, or fewer when reading them took `max_s` (a slow
    file still shows progress every few seconds), skipping the `start` items a previous run
    committed."""
    batch, since = [], time.monotonic()
    for position, item in enumerate(items):
        if position < start:
            continue
        batch.append((position, item))
        if len(batch) >= size or time.monotonic() - since >= max_s:
            yield batch
            batch, since = [], time.monotonic()
    if batch:
        yield batch


def _commit_batch(run: JobRun, batch: list[tuple[int, Record | RecordError]]) -> None:
    """Upsert one batch and advance the job row in the same transaction, so a crash leaves
    whole batches only and a rerun resumes exactly after the last one. Batches of concurrent
    imports take turns (_papers_write_lock); a conflict with another writer of papers is
    retried, the batch then finding the other's rows (skipped, not duplicated)."""
    for attempt in range(1, BATCH_TRIES + 1):
        try:
            with transaction.atomic():
                _papers_write_lock(run)
                _upsert_batch(run, batch)
            return
        except (IntegrityError, OperationalError) as exc:
            if attempt == BATCH_TRIES:
                raise
            log.warning("import %s: batch at record %s conflicted (%s); retrying", run.job.pk, batch[0][0] + 1, exc)
            time.sleep(attempt * 0.5)


def _papers_write_lock(run: JobRun) -> None:
    """Inside the batch's transaction, before it reads the stored papers: on PostgreSQL a
    transaction-level advisory lock that every import batch takes (two batches reading the same
    missing paper would both insert it: IntegrityError); on SQLite, a write as the first
    statement takes the database's write lock, waiting its turn (a read first, then a write,
    fails at once with "database is locked" when another connection writes). The write is the
    claim check: LostClaim if another worker took the job over."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PAPERS_WRITE_LOCK])
    if not run.held().update(heartbeat=timezone.now()):
        raise LostClaim(f"import {run.job.pk} was taken over")


def _upsert_batch(run: JobRun, batch: list[tuple[int, Record | RecordError]]) -> None:
    job = run.job
    result = papers_upsert(items=batch, source=job.filename)
    done = batch[-1][0] + 1
    # The pre-count may be approximate (malformed lines); never show more done than total.
    run.update(done=done, total=Greatest(F("total"), done), created=F("created") + result.created,
               updated=F("updated") + result.updated, skipped=F("skipped") + result.skipped,
               failed=F("failed") + len(result.failures),
               failures=(job.failures + result.failures)[:MAX_FAILURES_KEPT])


def _job_finish(run: JobRun) -> None:
    """Done, or on to indexing: new and changed papers go to the workers in chunks. Indexing is
    a new phase with attempts of its own."""
    if not settings.INDEX_AFTER_IMPORT:
        run.finish(total=F("done"))
        return
    run.finish(JobStatus.INDEXING, total=F("done"), attempts=0)
    transaction.on_commit(lambda: task_send("papers.index_plan", run.job.pk))


def import_job_fail(*, job_id: int | None, message: str) -> None:
    if job_id is not None:
        job_fail(ImportJob(pk=job_id), message)


def import_index_plan(*, job_id: int | None) -> int:
    """Enqueue every paper still to index in chunks; the job row counts them. Beat plans a silent
    indexing job again: that counts as an attempt only when no chunk finished since the last plan
    (a long backlog that moves is not a dead worker), and the papers indexed so far stay counted
    (the total is what was done plus what is left). Returns the count."""
    ids = indexing.unindexed_ids()
    if job_id is not None:
        moved = Q(index_done__gt=F("index_done_at_plan"))
        ImportJob.objects.filter(pk=job_id).update(
            status=JobStatus.INDEXING, index_total=F("index_done") + len(ids), index_done_at_plan=F("index_done"),
            heartbeat=timezone.now(), attempts=Case(When(moved, then=Value(1)), default=F("attempts") + 1),
            index_started_at=Coalesce(F("index_started_at"), timezone.now()))
    for chunk in indexing.chunked(ids, settings.INDEX_CHUNK_SIZE):
        task_send("papers.index_chunk", chunk, job_id)
    if not ids:
        task_send("papers.index_publish", job_id)
    return len(ids)


def import_index_chunk(*, ids: list[int], job_id: int | None) -> bool:
    """Index one chunk for the job in steps of INDEX_STEP papers, counting each step (the bar
    moves within a chunk) and listing what is left, so that if this worker dies another one
    finishes the rest (webapp.jobs.lifecycle.job_work). True when it was the job's last chunk,
    so that publishing can follow."""
    if job_id is None:
        indexing.papers_index_chunk(ids=ids)
        return False
    job = ImportJob(pk=job_id)
    with job_work(job, "papers.index_chunk", ids, job_id) as work:
        for start in range(0, len(ids), INDEX_STEP):
            step = ids[start:start + INDEX_STEP]
            _encoder_stage(job_id)
            indexing.papers_index_chunk(ids=step)
            # Counted where the job is indexing, never past its total (a chunk sent twice).
            ImportJob.objects.filter(pk=job_id, status=JobStatus.INDEXING).update(
                index_done=Least(F("index_done") + len(step), F("index_total")), heartbeat=timezone.now(), stage="")
            work.left(ids[start + INDEX_STEP:], job_id)
    return ImportJob.objects.filter(pk=job_id, index_done__gte=F("index_total")).exists()


def _encoder_stage(job_id: int) -> None:
    """Say on the job that this worker is loading the encoder (building its kernels on a first
    start): the first step of a fresh worker can take minutes."""
    stage = indexing.encoder_loading_stage()
    if stage:
        ImportJob.objects.filter(pk=job_id, status=JobStatus.INDEXING).update(stage=stage)


def import_index_publish() -> int:
    """Publish the stored vectors, then finish the indexing jobs whose papers are all in."""
    version = indexing.index_publish()
    _indexed_jobs_finish()
    return version


def import_index_publish_pending() -> int | None:
    """Beat's safety net: publish vectors that no finished chunk got round to publishing."""
    version = indexing.index_publish_if_pending()
    _indexed_jobs_finish()
    return version


def _indexed_jobs_finish() -> None:
    ImportJob.objects.filter(status=JobStatus.INDEXING, index_done__gte=F("index_total")).update(
        status=JobStatus.DONE, finished_at=timezone.now())


def safe_name(name: str) -> str:
    """A file name that cannot climb out of its folder or hide as a dotfile."""
    base = _UNSAFE.sub("_", os.path.basename(name or "")).lstrip("._")
    return base[:120] or "upload"


def upload_store(*, upload: UploadedFile) -> Path:
    """Copy the upload in chunks to UPLOAD_DIR/<uuid>/<safe name>: outside the web root, one
    folder per upload so two files of the same name never collide."""
    if upload.size > settings.MAX_UPLOAD_MB * 1024 * 1024:
        raise ImportRejected(f"the file is larger than {settings.MAX_UPLOAD_MB} MB")
    folder = Path(settings.UPLOAD_DIR) / uuid.uuid4().hex
    folder.mkdir(parents=True)
    path = folder / safe_name(upload.name)
    with open(path, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path


def upload_import(*, upload: UploadedFile, fmt: str = "", owner) -> ImportJob:
    """Store the upload, check from its content that it is a corpus file at all (the name says
    nothing), and queue its import. A rejected upload leaves nothing on disk."""
    path = upload_store(upload=upload)
    try:
        if not fmt:
            detect_format(path)  # raises with the reason: a PDF, binary, a single line ...
        return import_job_create(path=str(path), filename=upload.name[:300], fmt=fmt, owner=owner)
    except (FormatError, ImportRejected) as exc:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise ImportRejected(str(exc).replace(str(path), upload.name)) from None
