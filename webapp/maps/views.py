"""Browser views of the field map: the gap map's heat map page, and the JSON the zoomable map
page (webapp.site's /map/, templates site/map.html + static js/map.js) draws its clusters from."""
from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from discovery import novelty
from webapp.http import server_timing
from webapp.maps import selectors
from webapp.maps.models import FieldMap
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


def _heat_cells(counts: list[int], row: int, most: int, gap_rank: dict, idea_cell: tuple | None) -> str:
    """One row's cells as HTML. Built here, not in a template loop: a level-2 map has ~9,000
    cells and the loop took seconds. Only integers and fixed class names go in, never paper text
    (the labels are in the template's header cells, escaped there). Darkness is relative to the
    map's fullest cell, `most`."""
    cells = []
    for col, n in enumerate(counts):
        classes = f"h{selectors.heat_step(n, most)}"
        rank = gap_rank.get((row, col))
        extra = ""
        if rank:
            classes += " gap"
            extra = f' data-gap="{rank}" aria-label="{n} papers, under-explored #{rank}"'
        text = str(n)
        if idea_cell == (row, col):
            classes += " idea"
            extra += ' aria-label="your idea"' if not rank else ""
            text = "◆"
        focus = ' tabindex="0"' if row == col == 0 else ""
        cells.append(f'<td class="{classes}"{focus}{extra}>{text}</td>')
    return mark_safe("".join(cells))


def _heat_rows(gaps: dict, idea_cell: tuple[str, str] | None) -> list[dict]:
    """Rows of the heat map; the darkness of a cell is relative to the fullest cell of the map."""
    problem_index = {p["id"]: i for i, p in enumerate(gaps["problem"])}
    method_index = {m["id"]: j for j, m in enumerate(gaps["method"])}
    gap_rank = {(problem_index[g["problem"]], method_index[g["method"]]): rank
                for rank, g in enumerate(gaps["under_explored"], start=1)}
    idea = (problem_index.get(idea_cell[0]), method_index.get(idea_cell[1])) if idea_cell else None
    most = max((max(r) for r in gaps["counts"] if r), default=0)
    return [{"cluster": p, "cells": _heat_cells(gaps["counts"][i], i, most, gap_rank, idea)}
            for i, p in enumerate(gaps["problem"])]


@require_GET
@gzip_page
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
    return render(request, "maps/gaps.html", {"cell_data": {k: gaps[k] for k in ("counts", "expected", "history")},
        "state": state, "gaps": gaps, "level": level, "levels": range(1, gaps["levels"] + 1),
        "rows": _heat_rows(gaps, idea_cell), "under": under, "report": report, "idea_cell": idea_cell,
        "periods": gaps["periods"], "building_job": selectors.fieldmap_building() if state["version"] is None else None})


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


@require_GET
def fieldmap_progress(request, job_id: int):
    """The build's stage fragment the gap map polls while no map exists; once it is finished
    the page reloads to show the map. The map of the field is public, like the corpus."""
    job = get_object_or_404(FieldMap, pk=job_id)
    response = render(request, "jobs/_progress.html", {"job": job})
    if job.is_finished:
        response["HX-Refresh"] = "true"
    return response
