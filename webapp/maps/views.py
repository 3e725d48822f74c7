"""Browser views of the field map: the gap map's heat map page, and the JSON the zoomable map
page (webapp.site's /map/, templates site/map.html + static js/map.js) draws its clusters from."""
from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from discovery import novelty
from webapp.http import server_timing
from webapp.maps import selectors
from webapp.reports import selectors as report_selectors


def _report_idea(request) -> tuple[object, dict]:
    """(the user's report named by ?report=, the clusters nearest its idea); a stranger's
    report, or any for a visitor, is a 404."""
    raw = request.GET.get("report", "")
    if not raw:
        return None, {}
    if not raw.isdigit() or not request.user.is_authenticated:
        raise Http404("no such report")
    report = report_selectors.report_get(report_id=int(raw), user=request.user)
    if not report.problem:
        return report, {}
    idea = novelty.Idea(report.problem, report.method, report.findings)
    return report, selectors.idea_place(vectors=novelty.idea_vectors(idea))


def _level(request, levels: int) -> int:
    raw = request.GET.get("level", "1")
    level = int(raw) if raw.isdigit() else 1
    return min(max(level, 1), max(levels, 1))


def _links(problem_text: str, method_text: str) -> dict:
    return {"inspire": reverse("inspire") + "?" + urlencode({"problem": problem_text}),
            "report": reverse("report-new") + "?" + urlencode({"problem": problem_text, "method": method_text})}


def _heat_rows(gaps: dict, idea_cell: tuple[str, str] | None) -> list[dict]:
    cells = {(c["problem"], c["method"]): c for c in gaps["cells"]}
    marked = {(g["problem"], g["method"]): rank for rank, g in enumerate(gaps["under_explored"], start=1)}
    most = max((c["count"] for c in gaps["cells"]), default=0)
    rows = []
    for p in gaps["problem"]:
        row = []
        for m in gaps["method"]:
            cell = cells.get((p["id"], m["id"]), {"count": 0, "expected": 0.0, "history": []})
            row.append({"problem": p["id"], "method": m["id"], "count": cell["count"], "expected": cell["expected"],
                        "history": cell["history"], "step": selectors.heat_step(cell["count"], most),
                        "gap": marked.get((p["id"], m["id"])), "idea": idea_cell == (p["id"], m["id"])})
        rows.append({"cluster": p, "cells": row})
    return rows


@require_GET
@server_timing
def gaps_page(request):
    report, place = _report_idea(request)
    state = selectors.fieldmap_state()
    loaded = selectors.fieldmap_loaded()
    level = _level(request, loaded.levels if loaded else 0)
    gaps = selectors.gap_map(level=level)
    idea_cell = None
    if place.get("problem") and place.get("method") and len(place["problem"]) >= level:
        idea_cell = (place["problem"][level - 1], place["method"][level - 1])
    problems = selectors.family_texts([p["id"] for p in gaps["problem"]], "problem")
    methods = selectors.family_texts([m["id"] for m in gaps["method"]], "method")
    for family, texts in ((gaps["problem"], problems), (gaps["method"], methods)):
        for f in family:
            f["text"] = texts[f["id"]]
    nearest = selectors.papers_brief(ids=[i for g in gaps["under_explored"] for i in g["nearest"]])
    under = [{**g, "rank": rank, "papers": [nearest[i] for i in g["nearest"] if i in nearest],
              **_links(problems[g["problem"]], methods[g["method"]])}
             for rank, g in enumerate(gaps["under_explored"], start=1)]
    return render(request, "maps/gaps.html", {
        "state": state, "gaps": gaps, "level": level, "levels": range(1, gaps["levels"] + 1),
        "rows": _heat_rows(gaps, idea_cell), "under": under, "report": report, "idea_cell": idea_cell,
        "periods": gaps["periods"]})


@require_GET
@gzip_page
@cache_control(private=True, max_age=60)  # private: it may place the user's own idea
def clusters_json(request, space: str):
    """Every level's clusters of a space, with each paper's cluster per level."""
    report, place = _report_idea(request)
    return JsonResponse({**selectors.map_clusters(space=space), "members": selectors.map_members(space=space),
                         "idea": place.get(space, [])})


@require_GET
def cluster_json(request, space: str, cluster_id: str):
    found = selectors.cluster_detail(space=space, cluster_id=cluster_id)
    if found is None:
        raise Http404("no such cluster")
    return JsonResponse(found)
