"""Indexing papers into the ideation space: segment, embed every aspect, store, publish.

Chunks of papers are embedded by Celery tasks that any worker can take (webapp.imports plans
them for an import job); the vectors and the segmentation are stored in the database (the source
of truth), and a publish step folds the new vectors into the FAISS indexes on disk (one writer at
a time, atomic versions)."""
from __future__ import annotations

import functools
import hashlib
import logging
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from django.conf import settings
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

import discovery
from discovery import SPACES
from webapp.papers.models import IndexState, Paper, PaperVectors

log = logging.getLogger(__name__)
# Sent with `version` once a publish has committed (novelty watch listens: webapp.library).
index_published = Signal()


def unindexed_ids() -> list[int]:
    return list(Paper.objects.filter(indexed_hash="").order_by("pk").values_list("pk", flat=True))


def chunked(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


_encoder_loaded = False  # in this process


def papers_index_chunk(*, ids: list[int]) -> int:
    """Segment and embed the papers of one chunk that still need it; idempotent, so a chunk
    redelivered after a crash only does what is left. Returns how many were indexed."""
    global _encoder_loaded
    papers = list(Paper.objects.filter(pk__in=ids, indexed_hash=""))
    if papers:
        segmentations, vectors = papers_embed(papers)
        _encoder_loaded = True
        _store(papers, segmentations, vectors)
    return len(papers)


def encoder_loading_stage() -> str:
    """What this process's next embedding does first: "" (the encoder is loaded), "kernels"
    (its Int8 kernels are not built on this machine yet: about 30 s of gcc, minutes on a busy
    machine) or "encoder" (loading it, a few seconds)."""
    if _encoder_loaded:
        return ""
    return "kernels" if _kernels_unbuilt() else "encoder"


def _kernels_unbuilt() -> bool:
    from discovery import encoder, kernels
    from discovery import settings as discovery_settings
    from inference.kernels import build_key

    if not (encoder.int8_enabled() and discovery_settings.kernels_enabled() and kernels.cpu_has_avx512()):
        return False
    name = "discovery_minilm_ops"
    folder = discovery_settings.cache_dir() / "kernels" / f"{name}-{build_key(kernels.SOURCE, kernels.CFLAGS, [])}"
    return not (folder / f"{name}.so").exists()


def papers_embed(papers: list[Paper]) -> tuple[list[list[dict]], dict[str, np.ndarray]]:
    """discovery.aspects.embed_papers on Paper rows: (segmentations, vectors per space)."""
    from discovery import aspects

    embedded = aspects.embed_papers([(p.title, p.abstract) for p in papers])
    return embedded.segmentations(), embedded.vectors


@functools.lru_cache(maxsize=1)
def model_key() -> str:
    """Names what produced the vectors (encoder + trained weights), so stale ones are visible."""
    digest = hashlib.sha256(b"all-MiniLM-L6-v2")
    for path in sorted((Path(discovery.__file__).parent / "weights").glob("*.safetensors")):
        digest.update(path.read_bytes())
    return "minilm-" + digest.hexdigest()[:16]


def _store(papers: list[Paper], segmentations: list[list[dict]], vectors: dict[str, np.ndarray]) -> None:
    now = timezone.now()
    with transaction.atomic():
        for row, (paper, segmentation) in enumerate(zip(papers, segmentations)):
            # Only if the text is still what we embedded: an import that changed it meanwhile
            # left indexed_hash empty, and the paper goes round again.
            updated = Paper.objects.filter(pk=paper.pk, title=paper.title, abstract=paper.abstract).update(
                segmentation=segmentation, indexed_hash=paper.content_hash(), indexed_at=now)
            if updated:
                PaperVectors.objects.update_or_create(paper_id=paper.pk, defaults={
                    "model_key": model_key(), "updated_at": now,
                    **{f"{s}_vec": vectors[s][row].astype(np.float16).tobytes() for s in SPACES}})


def index_publish_if_pending() -> int | None:
    """Beat's safety net: publish vectors that no finished chunk got round to publishing."""
    if PaperVectors.objects.filter(updated_at__gte=IndexState.current().published_at).exists():
        return index_publish()
    return None


def index_publish(*, full: bool = False, progress: Callable[[int, int], None] | None = None) -> int:
    """Fold vectors stored since the last publish into the on-disk indexes (or rebuild them
    all with `full`). Returns the new version."""
    IndexState.current()
    # The row lock makes publishes take turns (on every machine): two at once would each
    # add their rows to the same old version and the second save would drop the first's.
    with transaction.atomic():
        state = IndexState.objects.select_for_update().get(pk=1)
        version = _publish(state, full, progress)
        transaction.on_commit(lambda: index_published.send(sender=IndexState, version=version))
        return version


def _publish(state: IndexState, full: bool, progress) -> int:
    from discovery.index import IndexSet

    started = timezone.now()
    index_set = IndexSet.open(settings.INDEX_DIR)
    rows = PaperVectors.objects.select_related("paper")
    if not full:
        rows = rows.filter(updated_at__gte=state.published_at)
    else:
        index_set = IndexSet(settings.INDEX_DIR)
    _add_rows(index_set, rows, progress)
    gone = np.setdiff1d(index_set.ids, np.fromiter(Paper.objects.values_list("pk", flat=True), dtype=np.int64))
    if len(gone):
        index_set.remove(gone)
    version = index_set.save(force=True)
    # The corpus's own nearest-neighbour similarities, which calibrate novelty scores: computed
    # here, once per version, not inside a report's time limit.
    from discovery.novelty import calibration_for

    calibration_for(index_set)
    IndexState.objects.filter(pk=state.pk).update(published_at=started, version=version)
    return version


def _add_rows(index_set, rows, progress, batch: int = 5000) -> None:
    total = rows.count()
    done = 0
    buffer: list[PaperVectors] = []
    for row in rows.iterator(chunk_size=batch):
        buffer.append(row)
        if len(buffer) >= batch:
            _add_batch(index_set, buffer)
            done += len(buffer)
            buffer = []
            if progress:
                progress(done, total)
    if buffer:
        _add_batch(index_set, buffer)
        if progress:
            progress(total, total)


def _add_batch(index_set, rows: list[PaperVectors]) -> None:
    vectors = {s: np.stack([np.frombuffer(getattr(r, f"{s}_vec"), dtype=np.float16) for r in rows]).astype(np.float32)
               for s in SPACES}
    papers = [r.paper for r in rows]
    index_set.add([p.pk for p in papers], vectors, texts=[f"{p.title}\n{p.abstract}" for p in papers],
                  years=[p.year or 0 for p in papers], venues=[p.venue for p in papers])
