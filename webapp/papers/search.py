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

from discovery import ASPECTS, SPACES
from webapp.papers.models import IndexState, Paper

VIEWS = ("all",) + ASPECTS
FLOOR_QUANTILE = 0.01  # see _relevance_floors
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
                 venue: str | None = None, page: int = 1, per_page: int = 20, sort: str = "relevance") -> SearchPage:
    from discovery.search import search

    idx = index_set()
    if not len(idx) or not q.strip():
        return SearchPage([], 0, page, per_page, indexed=bool(len(idx)))
    cfg = _search_config()
    # The ranked pool, not one page, so that the floor drops hits before paging; a pool of
    # dense_k leaves discovery's candidate sets as they were (it widens them past that depth).
    result = search(idx, query_text=q, query_vectors=_query_vectors(q), aspect=_view(aspect),
                    k=max(cfg.dense_k, page * per_page), year_min=year_min, year_max=year_max,
                    venue=venue or None, cfg=cfg)
    floors = _relevance_floors(idx)
    kept = [hit for hit in result.hits if _relevant(hit, aspect, floors)]
    if sort == "newest":
        kept = _newest_first(idx, kept)
    start = (page - 1) * per_page
    return SearchPage(_papers(kept[start:start + per_page]), len(kept), page, per_page, True, result.timings)


def _newest_first(idx, hits: list) -> list:
    """The relevant hits by year, newest first (relevance within a year; no year: last)."""
    if not hits:
        return hits
    years = idx.meta.year[idx.meta.rows(np.asarray([h.id for h in hits], np.int64))]
    order = sorted(range(len(hits)), key=lambda i: -int(years[i]))  # stable: relevance breaks ties
    return [hits[i] for i in order]


def _relevance_floors(idx) -> dict[str, float]:
    """Per space, the least similarity a dense-only hit needs: the FLOOR_QUANTILE of the corpus
    papers' nearest-neighbour similarities (novelty's calibration). A query is kept off a paper
    it is less like than nearly every corpus paper is like its nearest neighbour. MiniLM, paper
    space: demo corpus (119) floor 0.485, nonsense queries at most 0.13-0.21, "outlier
    quantization" 0.58; 49k corpus floor 0.563, nonsense 0.20-0.32, "outlier quantization" 0.59.
    No calibration (an index of one paper): no floor."""
    try:
        nn = index_calibration(idx).nn
    except ValueError:
        return {}
    return {space: float(np.quantile(nn[space], FLOOR_QUANTILE)) for space in SPACES if space in nn}


def _relevant(hit, aspect: str, floors: dict[str, float]) -> bool:
    """A hit matches a query word (BM25), or is close enough in the searched space (the
    whole-paper space when searching all: it separates best, and a tiny corpus's aspect
    floors can sit near 0)."""
    space = "paper" if aspect == "all" else aspect
    return hit.lexical > 0 or hit.sims[space] >= floors.get(space, -1.0)


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
