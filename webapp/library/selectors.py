"""Reads for the library: the owner's collections, searches and ideas (404 for anyone else's),
exports of a collection (BibTeX with the paper page's own code, JSON), an idea's novelty history."""
from __future__ import annotations

import json

from django.db.models import Count
from django.shortcuts import get_object_or_404

from discovery import ASPECTS
from webapp.library.models import Collection, IdeaNovelty, SavedIdea
from webapp.papers.models import Paper
from webapp.papers.selectors import paper_bibtex


def collections_of(*, owner):
    return Collection.objects.filter(owner=owner).annotate(size=Count("entries"))


def collection_get(*, owner, collection_id: int) -> Collection:
    return get_object_or_404(Collection, pk=collection_id, owner=owner)


def collection_papers(collection: Collection) -> list[Paper]:
    return [e.paper for e in collection.entries.select_related("paper")]


def collection_bibtex(collection: Collection) -> str:
    return "\n".join(paper_bibtex(p) for p in collection_papers(collection))


def collection_json(collection: Collection) -> str:
    papers = [{"id": p.pk, "title": p.title, "authors": p.authors, "year": p.year, "venue": p.venue, "doi": p.doi,
               "arxiv_id": p.arxiv_id, "url": p.url, "abstract": p.abstract} for p in collection_papers(collection)]
    return json.dumps({"collection": collection.name, "papers": papers}, indent=1, ensure_ascii=False)


def idea_get(*, owner, idea_id: int) -> SavedIdea:
    return get_object_or_404(SavedIdea, pk=idea_id, owner=owner)


def idea_history(idea: SavedIdea) -> list[IdeaNovelty]:
    return list(idea.novelty.all())


CHART = {"width": 320, "height": 120, "pad": 24}
COLOURS = {"problem": "#2563eb", "method": "#16a34a", "findings": "#d97706"}


def novelty_chart(history: list[IdeaNovelty]) -> dict:
    """Polylines of each aspect's novelty per index version, for an inline SVG drawn by the
    template (no script): x by reading, y from 0 (bottom) to 1 (top)."""
    w, h, pad = CHART["width"], CHART["height"], CHART["pad"]
    n = len(history)
    xs = [pad + (w - 2 * pad) * (i / (n - 1) if n > 1 else 0.5) for i in range(n)]

    def y(v: float) -> float:
        return round(h - pad - (h - 2 * pad) * max(0.0, min(1.0, float(v))), 1)

    lines = []
    for aspect in ASPECTS:
        points = [(round(x, 1), y(r.scores[aspect])) for x, r in zip(xs, history) if aspect in r.scores]
        if points:
            lines.append({"aspect": aspect, "colour": COLOURS[aspect], "last": points[-1],
                          "points": " ".join(f"{px},{py}" for px, py in points)})
    return {**CHART, "lines": lines, "versions": [(round(x, 1), r.index_version) for x, r in zip(xs, history)],
            "top": y(1), "bottom": y(0)}
