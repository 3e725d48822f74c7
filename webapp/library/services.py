"""Writes for the library: collections and the papers saved in them, saved searches, saved ideas,
and a BibTeX / RIS file imported as a collection (`<entity>_<action>`). Every function takes the
owner and touches only the owner's rows; another user's id is a 404."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404

from discovery.corpus import FormatError, Record, detect_format, read_records
from webapp.imports.services import ImportRejected, import_job_create, upload_store
from webapp.jobs.lifecycle import task_send
from webapp.library.models import Collection, CollectionImport, CollectionPaper, SavedIdea, SavedSearch
from webapp.papers.models import Paper
from webapp.papers.services import papers_matching
from webapp.reports.models import NoveltyReport

log = logging.getLogger(__name__)
IMPORT_FORMATS = ("bibtex", "ris")
SEARCH_FIELDS = ("q", "aspect", "year_min", "year_max", "venue", "sort")


class LibraryRejected(ValueError):
    """The request cannot be done as given; names the problem."""


def collection_create(*, owner, name: str) -> Collection:
    name = " ".join(name.split())[:100]
    if not name:
        raise LibraryRejected("give the collection a name")
    collection, _ = Collection.objects.get_or_create(owner=owner, name=name)
    return collection


def collection_delete(*, owner, collection_id: int) -> None:
    get_object_or_404(Collection, pk=collection_id, owner=owner).delete()


def paper_save(*, owner, paper_id: int, collection_id: int | None = None, new_name: str = "") -> Collection:
    """Save a paper into one of the owner's collections, or into a new one of that name."""
    paper = get_object_or_404(Paper, pk=paper_id)
    if new_name.strip():
        collection = collection_create(owner=owner, name=new_name)
    elif collection_id:
        collection = get_object_or_404(Collection, pk=collection_id, owner=owner)
    else:
        raise LibraryRejected("choose a collection or name a new one")
    try:
        with transaction.atomic():
            CollectionPaper.objects.get_or_create(collection=collection, paper=paper)
    except IntegrityError:  # a double click saved it first
        pass
    return collection


def paper_remove(*, owner, collection_id: int, paper_id: int) -> None:
    collection = get_object_or_404(Collection, pk=collection_id, owner=owner)
    CollectionPaper.objects.filter(collection=collection, paper_id=paper_id).delete()


def search_save(*, owner, params: dict) -> SavedSearch:
    kept = {k: str(params.get(k) or "").strip()[:300] for k in SEARCH_FIELDS if params.get(k)}
    if not kept.get("q"):
        raise LibraryRejected("only a search with a query can be saved")
    name = kept["q"][:120] + (f" ({kept['aspect']})" if kept.get("aspect", "all") != "all" else "")
    return SavedSearch.objects.create(owner=owner, name=name, params=kept)


def search_delete(*, owner, search_id: int) -> None:
    get_object_or_404(SavedSearch, pk=search_id, owner=owner).delete()


def idea_create(*, owner, problem: str, method: str = "", findings: str = "", title: str = "",
                report_id: int | None = None) -> SavedIdea:
    """A saved idea, linked to the owner's novelty report when given; novelty watch takes its
    first reading against the current index at once (the baseline later alerts compare with)."""
    problem, method, findings = problem.strip(), method.strip(), findings.strip()
    if not problem:
        raise LibraryRejected("an idea needs at least its problem")
    report = get_object_or_404(NoveltyReport, pk=report_id, owner=owner) if report_id else None
    title = " ".join((title or problem).split())[:200]
    idea = SavedIdea.objects.create(owner=owner, title=title, problem=problem, method=method, findings=findings)
    if report:
        idea.reports.add(report)
    transaction.on_commit(lambda: task_send("library.watch_idea", idea.pk))
    return idea


def idea_delete(*, owner, idea_id: int) -> None:
    get_object_or_404(SavedIdea, pk=idea_id, owner=owner).delete()


def idea_watch_set(*, owner, idea_id: int, watch: bool) -> SavedIdea:
    idea = get_object_or_404(SavedIdea, pk=idea_id, owner=owner)
    SavedIdea.objects.filter(pk=idea.pk).update(watch=watch)
    idea.watch = watch
    return idea


def collection_import(*, owner, upload: UploadedFile, name: str = "") -> Collection:
    """A BibTeX or RIS file as a collection: the papers the corpus has (by DOI, arXiv id or
    title, the import's own dedup) are added now; the missing ones go through the normal import
    job, and are added once it has finished (collection_imports_settle)."""
    path = upload_store(upload=upload)
    try:
        fmt = detect_format(path)
        if fmt not in IMPORT_FORMATS:
            raise LibraryRejected(f"{upload.name}: a {fmt} file; a collection is imported from BibTeX or RIS")
        records = [r for r in read_records(path, fmt) if isinstance(r, Record) and r.title.strip()]
    except FormatError as exc:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise LibraryRejected(str(exc).replace(str(path), upload.name)) from None
    except LibraryRejected:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise
    if not records:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise LibraryRejected(f"{upload.name}: no paper with a title in it")
    found = papers_matching(records=records)
    with transaction.atomic():
        collection = collection_create(owner=owner, name=name or Path(upload.name).stem or "Imported")
        CollectionPaper.objects.bulk_create([CollectionPaper(collection=collection, paper=p) for p in found if p],
                                            ignore_conflicts=True)
        missing = sum(p is None for p in found)
        job = None
        if missing:
            try:
                job = import_job_create(path=str(path), filename=upload.name[:300], fmt=fmt, owner=owner)
            except ImportRejected as exc:
                raise LibraryRejected(str(exc)) from None
        CollectionImport.objects.create(collection=collection, job=job, path=str(path), pending=missing,
                                        matched=len(found) - missing, settled=not missing)
    return collection


def collection_imports_settle(*, owner) -> int:
    """Add the papers of finished import jobs to their collections; returns how many were added."""
    added = 0
    for pending in CollectionImport.objects.filter(collection__owner=owner, settled=False).select_related("job"):
        if pending.job is not None and not pending.job.is_finished:
            continue
        added += _settle(pending)
    return added


def _settle(pending: CollectionImport) -> int:
    try:
        records = [r for r in read_records(pending.path, None) if isinstance(r, Record) and r.title.strip()]
    except (FormatError, OSError) as exc:
        log.warning("collection import %s: %s", pending.pk, exc)
        records = []
    found = [p for p in papers_matching(records=records) if p]
    before = pending.collection.entries.count()
    CollectionPaper.objects.bulk_create([CollectionPaper(collection=pending.collection, paper=p) for p in found],
                                        ignore_conflicts=True)
    added = pending.collection.entries.count() - before
    CollectionImport.objects.filter(pk=pending.pk).update(settled=True, pending=max(0, pending.pending - added))
    return added
