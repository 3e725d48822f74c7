"""Search over the ideation space for the browser and the API: search, similar papers, the
vectors behind the map, the corpus's novelty calibration. A thin layer over the Django-free
`discovery.search`: it holds the on-disk indexes open per process (reloading when a worker
publishes a new version) and turns ids into Paper rows."""
from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings

from discovery import ASPECTS
from webapp.papers.models import IndexState, Paper

VIEWS = ("all",) + ASPECTS
_lock = threading.Lock()


@dataclass
class PaperHit:
    paper: Paper
    score: float
    sims: dict[str, float] = field(default_factory=dict)
    matched: str = ""


@dataclass
class SearchPage:
    hits: list[PaperHit]
    total: int
    page: int
    per_page: int
    indexed: bool
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@functools.lru_cache(maxsize=1)
def _index_set():
    import faiss

    from discovery.index import IndexSet

    # Requests run concurrently in processes and threads; OpenMP threads inside one query only
    # fight them for the same cores (a 49k scan measured 8x slower with 2 threads under load).
    faiss.omp_set_num_threads(1)
    return IndexSet.open(settings.INDEX_DIR)


def index_set():
    """The process's open index set, reloaded when another process published a newer one."""
    current = _index_set()
    with _lock:
        current.maybe_reload()
    return current


def _query_vectors(text: str) -> dict[str, np.ndarray]:
    """A short query means the same thing in every space ("papers whose method is about X"); a
    passage of several sentences is segmented and embedded like an abstract."""
    from discovery import aspects, encoder
    from discovery.sentences import split_sentences

    if len(split_sentences(text)) > 1:
        return aspects.query_vectors("", text)
    vec = encoder.encode([text])[0]
    return {space: vec for space in aspects.SPACES}


@functools.lru_cache(maxsize=1)
def _search_config():
    from discovery import aspects
    from discovery.search import SearchConfig

    # Whole-paper cosine plus the tuned weight of the aspect's cosine (tuned on CSFCube dev).
    return SearchConfig(score_fn=aspects.space_score)


def paper_search(*, q: str, aspect: str = "all", year_min: int | None = None, year_max: int | None = None,
                 venue: str | None = None, page: int = 1, per_page: int = 20) -> SearchPage:
    from discovery.search import search

    idx = index_set()
    if not len(idx) or not q.strip():
        return SearchPage([], 0, page, per_page, indexed=bool(len(idx)))
    result = search(idx, query_text=q, query_vectors=_query_vectors(q), aspect=_view(aspect),
                    k=per_page, offset=(page - 1) * per_page, year_min=year_min, year_max=year_max,
                    venue=venue or None, cfg=_search_config())
    return SearchPage(_papers(result.hits), result.total_candidates, page, per_page, True, result.timings)


def papers_similar(*, paper: Paper, aspect: str, k: int = 10) -> list[PaperHit]:
    from discovery.search import more_like

    idx = index_set()
    if idx.meta.rows(np.asarray([paper.pk], np.int64))[0] < 0:
        return []  # not indexed yet
    return _papers(more_like(idx, paper_id=paper.pk, aspect=_view(aspect), k=k).hits)


def index_status() -> dict:
    idx = index_set()
    return {"indexed": len(idx), "papers": Paper.objects.count(), "version": IndexState.current().version or None}


def aspect_vectors(aspect: str) -> tuple[np.ndarray, np.ndarray]:
    idx = index_set()
    space = "paper" if _view(aspect) == "all" else aspect
    ids = idx.ids
    return ids, idx.reconstruct(space, ids)


@functools.lru_cache(maxsize=2)
def _calibration(root: str, version: int):
    from discovery.novelty import calibration_for

    return calibration_for(index_set())


def index_calibration(idx):
    """The corpus's own nearest-neighbour similarities that calibrate novelty scores, once per
    index version (the publish step computed them already)."""
    return _calibration(str(idx.root), idx.version)


def _view(aspect: str) -> str:
    if aspect not in VIEWS:
        raise ValueError(f"aspect must be one of {', '.join(VIEWS)}")
    return aspect


def _papers(hits) -> list[PaperHit]:
    rows = Paper.objects.in_bulk([h.id for h in hits])
    return [PaperHit(rows[h.id], h.score, h.sims, h.matched) for h in hits if h.id in rows]
