"""Writes for feeds: create and check a feed, start a harvest (by hand, or beat for every feed
that is due), and run one (the HackSoftware styleguide: `<entity>_<action>`).

A harvest fetches page after page into a JSON Lines file of its own, and commits after each page,
in one transaction, how much of the file is good and where the feed's sweep stands (the resumption
token or cursor). A worker killed mid-way is replaced by one that truncates the file to the
committed length and fetches the next page again; a failed page (a 503 past its retries, a
malformed answer) ends the harvest with the reason while the pages before it are imported, and
the next harvest starts from that page. The file then goes through an ordinary import job
(webapp.imports), which deduplicates against the corpus and indexes the new papers: a paper seen
twice (overlapping days, two feeds, a page fetched again) is stored once."""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from discovery.feeds import (ArxivOAI, ExpiredToken, FeedError, FetchConfig, OpenAlexWorks, fetch, file_sha256,
                             folder_scan)
from webapp.feeds.models import Feed, FeedFile, FeedKind, Harvest, Stage
from webapp.imports.services import import_job_create, safe_name
from webapp.jobs.lifecycle import JobRun, LostClaim, failure_reason, job_claim, job_enqueue, job_new_token, job_running
from webapp.jobs.models import JobStatus

log = logging.getLogger(__name__)
# The first retry of a failed feed; it doubles with each failure in a row, up to the feed's interval.
RETRY_AFTER_FAILURE = timedelta(minutes=10)
_CATEGORY = re.compile(r"^[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?$")


class FeedRejected(ValueError):
    """The feed cannot be saved as given; the message says why."""


def feed_check(*, kind: str, query: str, openalex_filter: str = "", staff: bool) -> None:
    """Raises FeedRejected with the reason when the feed could never harvest."""
    if kind == FeedKind.ARXIV:
        categories = query.split()
        bad = [c for c in categories if not _CATEGORY.match(c)]
        if not categories or bad:
            raise FeedRejected(f"not arXiv categories: {' '.join(bad) or '(none)'}; write e.g. cs.CL cs.LG")
        try:
            ArxivOAI(base_url="", categories=tuple(categories)).set_spec
        except ValueError as exc:
            raise FeedRejected(f"{exc}: make one feed per archive") from None
    elif kind == FeedKind.OPENALEX:
        if not (query.strip() or openalex_filter.strip()):
            raise FeedRejected("give search words, a filter, or both")
    elif kind == FeedKind.FOLDER:
        if not staff:
            raise FeedRejected("only staff can watch a folder on the server")
        folder_path(query)
    else:
        raise FeedRejected(f"unknown kind {kind!r}")


def folder_path(query: str) -> Path:
    """The watched folder, which must lie inside FEED_FOLDER_ROOT (no reading the server's other files)."""
    root = Path(settings.FEED_FOLDER_ROOT).resolve()
    path = (root / query.strip()).resolve()
    if path != root and root not in path.parents:
        raise FeedRejected(f"the folder must be inside FEED_FOLDER_ROOT ({root})")
    if not path.is_dir():
        raise FeedRejected(f"{path} is not a folder")
    return path


def feed_create(*, owner, name: str, kind: str, query: str, openalex_filter: str = "", date_filter: str = "",
                interval_hours: int = 24, since: date | None = None, enabled: bool = True) -> Feed:
    if owner.feeds.count() >= settings.FEEDS_PER_USER and not owner.is_staff:
        raise FeedRejected(f"you have {settings.FEEDS_PER_USER} feeds already; delete one first")
    feed_check(kind=kind, query=query, openalex_filter=openalex_filter, staff=owner.is_staff)
    fields = {"date_filter": date_filter} if date_filter else {}
    return Feed.objects.create(owner=owner, name=name, kind=kind, query=query.strip(), openalex_filter=openalex_filter,
                               interval_hours=interval_hours, since=since or timezone.localdate(), enabled=enabled,
                               **fields)


def feed_source(feed: Feed) -> ArxivOAI | OpenAlexWorks:
    if feed.kind == FeedKind.ARXIV:
        return ArxivOAI(base_url=settings.ARXIV_OAI_URL, categories=feed.categories)
    return OpenAlexWorks(base_url=settings.OPENALEX_URL, search=feed.query, filter=feed.openalex_filter,
                         date_filter=feed.date_filter)


def fetch_config() -> FetchConfig:
    return FetchConfig(tries=settings.FEED_HTTP_TRIES, timeout_s=settings.FEED_HTTP_TIMEOUT_S)


def harvest_start(*, feed: Feed, since: date | None = None, enqueue: bool = True) -> tuple[Harvest, bool]:
    """A new harvest of the feed, or the one already queued or running (never two at once);
    True when new. `since` starts a fresh sweep from that day, dropping an unfinished one."""
    with transaction.atomic():
        feed = Feed.objects.select_for_update().get(pk=feed.pk)
        active = feed.harvests.filter(status__in=Harvest.active_statuses).order_by("-pk").first()
        if active:
            return active, False
        fields = {"next_run_at": timezone.now() + timedelta(hours=feed.interval_hours)}
        if since:
            fields.update(since=since, cursor={})
        Feed.objects.filter(pk=feed.pk).update(**fields)
        harvest = Harvest.objects.create(feed=feed)
        if enqueue:
            job_enqueue(harvest)
    return harvest, True


def feeds_harvest_due() -> list[int]:
    """Beat: start a harvest of every enabled feed whose time has come; the new harvests' ids."""
    due = Feed.objects.filter(enabled=True, next_run_at__lte=timezone.now())
    return [harvest.pk for harvest, new in (harvest_start(feed=feed) for feed in due) if new]


def harvest_run(*, job_id: int, enqueue_import: bool = True,
                on_page: Callable[[Harvest], None] | None = None) -> Harvest | None:
    """Run (or resume) the harvest; None when another worker holds it. `enqueue_import=False`
    leaves the import jobs for the caller to run (the harvest command does, in the foreground)."""
    token = job_new_token()
    if not job_claim(Harvest, job_id, token):
        log.info("harvest %s is held elsewhere, finished or out of attempts; nothing to do", job_id)
        return None
    harvest = Harvest.objects.select_related("feed", "feed__owner").get(pk=job_id)
    with job_running(harvest, token) as run:
        try:
            if harvest.feed.kind == FeedKind.FOLDER:
                _harvest_folder(run, enqueue_import)
            else:
                _harvest_pages(run, enqueue_import, on_page)
        except LostClaim:
            raise
        except Exception as exc:  # the pages fetched so far are still imported, whatever stopped the rest
            if not isinstance(exc, FeedError):
                log.exception("harvest %s failed", job_id)
            _harvest_failed(run, str(exc) if isinstance(exc, FeedError) else failure_reason(harvest, exc),
                            enqueue_import)
    return run.result()


def _harvest_pages(run: JobRun, enqueue_import: bool, on_page) -> None:
    harvest, feed = run.job, run.job.feed
    source = feed_source(feed)
    cursor = feed.cursor or {"since": feed.since.isoformat(), "started": timezone.localdate().isoformat(),
                             "token": None}
    path = _harvest_file(harvest)
    harvest.path = str(path)
    run.stage(Stage.FETCHING, since=cursor["since"], path=harvest.path)
    restarted = False
    while True:
        url = source.url(since=date.fromisoformat(cursor["since"]), token=cursor["token"])
        try:
            page = source.parse(fetch(url, fetch_config()))
        except ExpiredToken:
            if restarted or not cursor["token"]:
                raise
            log.warning("feed %s: resumption token expired; asking for the list from %s again", feed.pk,
                        cursor["since"])
            cursor, restarted = {**cursor, "token": None}, True
            continue
        size = _append(path, page.records)
        cursor = {**cursor, "token": page.next}
        with transaction.atomic():
            run.update(pages=F("pages") + 1, fetched=F("fetched") + len(page.records),
                       ignored=F("ignored") + page.ignored, file_bytes=size)
            if page.next:
                Feed.objects.filter(pk=feed.pk).update(cursor=cursor)
            else:
                _import_create(harvest, source.dialect, size, enqueue_import)
                Feed.objects.filter(pk=feed.pk).update(cursor={}, since=cursor["started"], failures=0)
                run.finish()
        if on_page:
            on_page(Harvest.objects.get(pk=harvest.pk))
        if page.next is None:
            return


def _harvest_file(harvest: Harvest) -> Path:
    """The harvest's file, cut back to what was committed (a killed worker may have written a
    page past it)."""
    default = Path(settings.DATA_DIR) / "feeds" / str(harvest.feed_id) / f"harvest-{harvest.pk}.jsonl"
    path = Path(harvest.path or default)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab"):
        pass
    os.truncate(path, harvest.file_bytes)
    return path


def _append(path: Path, records: list[dict]) -> int:
    with open(path, "ab") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False).encode() + b"\n")
        f.flush()
        os.fsync(f.fileno())  # on disk before the database says it is
        return f.tell()


def _import_create(harvest: Harvest, fmt: str, size: int, enqueue: bool) -> None:
    if size:
        job = import_job_create(path=harvest.path, fmt=fmt, owner=harvest.feed.owner,
                                filename=f"{harvest.feed.name[:200]} (harvest {harvest.pk})", enqueue=enqueue)
        harvest.imports.add(job)


def _harvest_failed(run: JobRun, message: str, enqueue_import: bool) -> None:
    """Import what was fetched, keep the feed's position, and try the feed again after a backoff."""
    harvest = Harvest.objects.select_related("feed", "feed__owner").get(pk=run.job.pk)
    feed = harvest.feed
    delay = min(timedelta(hours=feed.interval_hours), RETRY_AFTER_FAILURE * 2 ** feed.failures)
    with transaction.atomic():
        if feed.kind != FeedKind.FOLDER and not harvest.imports.exists():
            _import_create(harvest, feed_source(feed).dialect, harvest.file_bytes, enqueue_import)
        Feed.objects.filter(pk=feed.pk).update(failures=F("failures") + 1, next_run_at=timezone.now() + delay)
        run.finish(JobStatus.FAILED, error=message[:2000])


def _harvest_folder(run: JobRun, enqueue_import: bool) -> None:
    """Import each new or changed file once: a copy is imported (the original may change while
    it is read), and a file whose content was imported before is passed over."""
    harvest, feed = run.job, run.job.feed
    try:
        root = folder_path(feed.query)
    except FeedRejected as exc:
        raise FeedError(str(exc)) from None
    run.stage(Stage.SCANNING)
    folder = Path(settings.DATA_DIR) / "feeds" / str(feed.pk)
    folder.mkdir(parents=True, exist_ok=True)
    for found in folder_scan(root, settle_s=settings.FEED_FOLDER_SETTLE_S):
        run.update(pages=F("pages") + 1)
        if FeedFile.objects.filter(feed=feed, sha256=found.sha256).exists():
            run.update(ignored=F("ignored") + 1)
            continue
        copy = folder / f"{found.sha256[:16]}-{safe_name(found.path.name)}"
        shutil.copyfile(found.path, copy)
        if file_sha256(copy) != found.sha256:  # changed while being read: still being written, next time
            copy.unlink()
            continue
        with transaction.atomic():
            job = import_job_create(path=str(copy), filename=found.relative[:300], owner=feed.owner,
                                    enqueue=enqueue_import)
            FeedFile.objects.create(feed=feed, relative=found.relative[:1000], sha256=found.sha256, size=found.size,
                                    import_job=job)
            harvest.imports.add(job)
            run.update(files=F("files") + 1)
    with transaction.atomic():
        Feed.objects.filter(pk=feed.pk).update(failures=0)
        run.finish()


def feed_update(*, feed: Feed, **fields) -> Feed:
    """Save changed settings; a changed source drops the unfinished sweep (its token or cursor
    belongs to the old query)."""
    source = ("kind", "query", "openalex_filter", "date_filter")
    if any(name in fields and fields[name] != getattr(feed, name) for name in source):
        fields["cursor"] = {}
    for name, value in fields.items():
        setattr(feed, name, value)
    feed_check(kind=feed.kind, query=feed.query, openalex_filter=feed.openalex_filter, staff=feed.owner.is_staff)
    feed.save()
    return feed
