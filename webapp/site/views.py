"""Pages that draw on several apps: the ideation map (the corpus, and where one of your novelty
reports' ideas falls on it) and the health check. Nothing imports this app, so it may import
the others."""
import logging

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from redis.exceptions import RedisError

from discovery.novelty import Idea
from webapp.http import server_timing
from webapp.papers import forms, map, selectors
from webapp.reports import selectors as report_selectors

log = logging.getLogger(__name__)


def _own_report(request, report_id: int | None):
    """The user's report to place on the map; a stranger's, or any for a visitor, is a 404."""
    if not report_id:
        return None
    if not request.user.is_authenticated:
        raise Http404("no such report")
    return report_selectors.report_get(report_id=report_id, user=request.user)


@require_GET
def map_page(request):
    form = forms.MapForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {"space": "paper", "q": "", "paper": None}
    paper = selectors.paper_get(paper_id=data["paper"]) if data.get("paper") else None
    report = _own_report(request, data.get("report"))
    idea = Idea(report.problem, report.method, report.findings) if report and report.problem else None
    q = idea.text() if idea else data.get("q") or ""
    highlight = map.map_highlight(q=q, paper=paper, space=data["space"])
    idea_point = map.map_idea_point(space=data["space"], idea=idea) if idea else None
    return render(request, "site/map.html", {"form": form, "space": data["space"], "paper": paper,
                                             "report": report if idea else None, "q": "" if idea else q,
                                             "highlight": highlight, "idea_point": idea_point})


@server_timing
def healthz(request):
    """200 when the database and Redis (broker and cache) both answer; 503 naming the one that
    does not, so that an orchestrator restarts or routes around the right thing."""
    checks, papers = {}, None
    try:
        connection.ensure_connection()
        papers = selectors.paper_count()
        checks["database"] = "ok"
    except DatabaseError as exc:
        checks["database"] = f"down: {exc}"[:200]
    try:
        cache.get("healthz")  # a round trip on the cache's connection: the same REDIS_URL as the broker
        checks["redis"] = "ok"
    except RedisError as exc:
        checks["redis"] = f"down: {exc}"[:200]
    ok = all(v == "ok" for v in checks.values())
    if not ok:
        log.warning("health check failed: %s", checks)
    return JsonResponse({"ok": ok, "papers": papers, **checks}, status=200 if ok else 503)
