"""The ideation map's reads: the corpus projected to 2-D in one space (once per index version),
where an idea falls on it, and which papers to highlight."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from django.conf import settings

from discovery import novelty, projection
from webapp.papers import search
from webapp.papers.models import Paper


def map_cache_dir() -> Path:
    """Beside the other derived data, one folder per index folder (versions count per folder)."""
    tag = hashlib.sha1(str(Path(settings.INDEX_DIR).resolve()).encode()).hexdigest()[:10]
    return Path(settings.DATA_DIR) / "projection" / tag


def _map_projection(space: str) -> tuple[int | None, np.ndarray, np.ndarray]:
    """(index version, ids, xy) of the corpus in one space, computed once per index version."""
    status = search.index_status()
    version = status.get("version")
    if version is None:
        return None, np.zeros(0, np.int64), np.zeros((0, 2), np.uint16)
    ids, xy = projection.cached_projection(map_cache_dir(), version, space,
                                           lambda: search.aspect_vectors("all" if space == "paper" else space),
                                           expect_count=status.get("indexed"))
    return version, ids, xy


def map_points(*, space: str) -> dict:
    """The corpus projected to 2-D in one space, computed once per index version."""
    version, ids, xy = _map_projection(space)
    if version is None:
        return {"version": None, "space": space, "ids": [], "x": [], "y": []}
    return projection.to_payload(ids, xy, version, space)


def map_idea_point(*, space: str, idea: novelty.Idea) -> dict | None:
    """Where an idea (a novelty report's fields) falls on the map of one space: its vector in that
    space, embedded like a corpus paper's, through the corpus's own projection."""
    version, ids, _ = _map_projection(space)
    transform = projection.cached_transform(map_cache_dir(), version, space) if len(ids) else None
    if transform is None:
        return None
    x, y = transform.place(novelty.idea_vectors(idea)[space])[0]
    return {"x": int(x), "y": int(y)}


def map_highlight(*, q: str, paper: Paper | None, space: str, k: int = 20) -> list[int]:
    """Ids to highlight on the map: the paper and its neighbours, or the query's best hits."""
    aspect = "all" if space == "paper" else space
    if paper is not None:
        return [paper.pk] + [h.paper.pk for h in search.papers_similar(paper=paper, aspect=aspect, k=k)]
    if q:
        return [h.paper.pk for h in search.paper_search(q=q, aspect=aspect, per_page=k).hits]
    return []
