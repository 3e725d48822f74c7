"""The field map job: queued when an index version is published (webapp.papers.indexing sends
`maps.fieldmap_build`; beat re-checks every few minutes), built by a worker from the index's
vectors and the papers' sentences, stored per index version."""
from __future__ import annotations

import logging
import time

from django.db import transaction

from discovery import SPACES, fieldmap
from webapp.jobs.lifecycle import job_claim, job_enqueue, job_new_token, job_running
from webapp.jobs.models import JobStatus
from webapp.maps.models import FieldMap, Stage
from webapp.papers import search
from webapp.papers.models import IndexState, Paper

log = logging.getLogger(__name__)
CONFIG = fieldmap.FieldMapConfig()  # the discovery defaults (12 families, 8 sub-families each)


class Superseded(RuntimeError):
    """A newer index version was published before this job ran: that version gets its own map."""


def fieldmap_request(*, version: int | None = None) -> FieldMap | None:
    """Queue a map of the index version (default: the published one) unless one is stored or
    on its way. None when nothing is published yet."""
    version = version or IndexState.current().version
    if not version:
        return None
    with transaction.atomic():
        known = FieldMap.objects.filter(index_version=version).exclude(status=JobStatus.FAILED).first()
        if known:
            return known
        job = FieldMap.objects.create(index_version=version)
        job_enqueue(job)
    return job


def fieldmap_run(*, job_id: int) -> FieldMap | None:
    """Claim and build one map; a second delivery of the same job finds it claimed and returns."""
    token = job_new_token()
    if not job_claim(FieldMap, job_id, token):
        return None
    job = FieldMap.objects.get(pk=job_id)
    with job_running(job, token) as run:
        _build(run)
    return run.result()


def _build(run) -> None:
    started = time.perf_counter()
    idx = search.index_set()
    if idx.version != run.job.index_version:
        raise Superseded(f"index version {run.job.index_version} was replaced by {idx.version} before its map was built")
    run.stage(Stage.READING)
    ids = idx.ids.copy()
    vectors = {s: idx.reconstruct(s, ids) for s in SPACES}
    texts = papers_texts(ids)
    run.stage(Stage.CLUSTERING)
    built = fieldmap.build(ids, vectors, idx.meta.year, texts, CONFIG)
    run.stage(Stage.SAVING)
    run.finish(data=built.to_json(), arrays=built.arrays_bytes(), index_count=len(ids),
               build_s=round(time.perf_counter() - started, 2))
    log.info("field map of index version %s: %s papers in %.1f s", run.job.index_version, len(ids),
             time.perf_counter() - started)


def papers_texts(ids) -> dict[str, list[str]]:
    """Per space, one text per id: the title and abstract for the whole paper, the sentences the
    segmenter gave the aspect for an aspect (empty for a paper the database no longer has)."""
    rows = {}
    for pk, title, abstract, segmentation in Paper.objects.values_list(
            "pk", "title", "abstract", "segmentation").iterator(chunk_size=5000):
        rows[pk] = (title, abstract, segmentation)
    texts = {s: [] for s in SPACES}
    for pk in ids.tolist():
        title, abstract, segmentation = rows.get(pk, ("", "", []))
        texts["paper"].append(f"{title}\n{abstract}")
        for aspect in SPACES[1:]:
            texts[aspect].append(" ".join(s["text"] for s in segmentation if s.get("aspect") == aspect))
    return texts
