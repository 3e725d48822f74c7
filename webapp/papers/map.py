"""Reads that only the browser and the API need: an abstract as labelled sentences, BibTeX,
the ideation map's points, a user's jobs. Search itself is webapp.papers.ideation's."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
from django.conf import settings
from django.http import Http404

from discovery import novelty, projection
from webapp.papers import ideation
from webapp.papers.models import ImportJob, Paper

ASPECT_LABELS = {"problem": "Problem", "method": "Method", "findings": "Findings", "other": "Context"}


def paper_get(*, paper_id: int) -> Paper:
    try:
        return Paper.objects.get(pk=paper_id)
    except Paper.DoesNotExist:
        raise Http404("no such paper") from None


def import_job_get(*, job_id: int, user) -> ImportJob:
    """The job if the user owns it (staff see every job in the admin, not here): anyone else
    gets the same 404 as for a job that does not exist, so ids reveal nothing."""
    try:
        return ImportJob.objects.get(pk=job_id, owner=user)
    except ImportJob.DoesNotExist:
        raise Http404("no such import job") from None


def abstract_sentences(paper: Paper, highlight: str = "") -> list[dict]:
    """The abstract as [{text, aspect, label, highlight}]: the indexed segmentation when there
    is one, else the whole abstract as one unlabelled piece. Templates escape `text`."""
    pieces = paper.segmentation or ([{"text": paper.abstract, "aspect": "other"}] if paper.abstract else [])
    return [{"text": p["text"], "aspect": p.get("aspect", "other"),
             "label": ASPECT_LABELS.get(p.get("aspect"), "Context"),
             "highlight": bool(highlight) and (highlight == "all" or p.get("aspect") == highlight)}
            for p in pieces]


def _bibtex_value(text: str) -> str:
    # Braces must balance inside {...}; backslashes would start LaTeX commands.
    return text.replace("\\", "").replace("{", "(").replace("}", ")")


def bibtex_key(paper: Paper) -> str:
    first = paper.authors[0].split()[-1] if paper.authors and paper.authors[0].split() else "anon"
    word = next((w for w in re.findall(r"[A-Za-z]+", paper.title) if len(w) > 3), "paper")
    return re.sub(r"[^a-z0-9]", "", f"{first}{paper.year or ''}{word}".lower()) or f"paper{paper.pk}"


def paper_bibtex(paper: Paper) -> str:
    fields = {"title": paper.title, "author": " and ".join(paper.authors), "year": str(paper.year or ""),
              "booktitle": paper.venue, "doi": paper.doi, "eprint": paper.arxiv_id, "url": paper.url,
              "abstract": paper.abstract}
    body = ",\n".join(f"  {name} = {{{_bibtex_value(value)}}}" for name, value in fields.items() if value)
    kind = "inproceedings" if paper.venue else "misc"
    return f"@{kind}{{{bibtex_key(paper)},\n{body}\n}}\n"


def map_cache_dir() -> Path:
    """Beside the other derived data, one folder per index folder (versions count per folder)."""
    tag = hashlib.sha1(str(Path(settings.INDEX_DIR).resolve()).encode()).hexdigest()[:10]
    return Path(settings.DATA_DIR) / "projection" / tag


def _map_projection(space: str) -> tuple[int | None, np.ndarray, np.ndarray]:
    """(index version, ids, xy) of the corpus in one space, computed once per index version."""
    status = ideation.index_status()
    version = status.get("version")
    if version is None:
        return None, np.zeros(0, np.int64), np.zeros((0, 2), np.uint16)
    ids, xy = projection.cached_projection(map_cache_dir(), version, space,
                                           lambda: ideation.aspect_vectors("all" if space == "paper" else space),
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
        return [paper.pk] + [h.paper.pk for h in ideation.papers_similar(paper=paper, aspect=aspect, k=k)]
    if q:
        return [h.paper.pk for h in ideation.paper_search(q=q, aspect=aspect, per_page=k).hits]
    return []
