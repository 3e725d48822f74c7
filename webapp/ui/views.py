"""Browser views: parse input with a form, call one service or selector, render. Search and
paper pages work without JavaScript; the map and the live job progress use it."""
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from discovery import ASPECTS
from discovery.novelty import Idea
from webapp.api import services as api_services
from webapp.papers import ideation, selectors as paper_selectors
from webapp.papers.services import ImportRejected
from webapp.reports import selectors as report_selectors
from webapp.ui import forms, selectors, services
from webapp.ui.limits import add_server_timing, client_key, over_limit, server_timing, too_many

PER_PAGE = 10  # results per page; each costs a highlighted abstract to render


@require_GET
@server_timing
def home(request):
    form = forms.SearchForm(request.GET or None)
    context = {"form": form, "page": None, "results": []}
    if not form.is_valid() or not form.cleaned_data["q"]:
        # the corpus size only on the landing page: a COUNT(*) per search would cost more than it says
        context["status"] = ideation.index_status()
        context["paper_count"] = context["status"]["papers"]
        return render(request, "ui/home.html", context, status=400 if form.errors else 200)
    if over_limit("search", client_key(request)):
        return too_many("search")
    data = form.cleaned_data
    page = ideation.paper_search(q=data["q"], aspect=data["aspect"], year_min=data["year_min"],
                                 year_max=data["year_max"], venue=data["venue"] or None,
                                 page=data["page"] or 1, per_page=PER_PAGE)
    context["page"], context["first_rank"] = page, (page.page - 1) * page.per_page + 1
    context["results"] = [{"hit": hit, "sentences": selectors.abstract_sentences(
        hit.paper, highlight=hit.matched if data["aspect"] == "all" else data["aspect"])} for hit in page.hits]
    response = render(request, "ui/home.html", context)
    add_server_timing(response, "search", page.timings.get("total", 0.0))
    return response


@require_GET
@server_timing
def paper_detail(request, paper_id: int):
    paper = selectors.paper_get(paper_id=paper_id)
    similar = [{"aspect": a, "label": selectors.ASPECT_LABELS[a],
                "hits": ideation.papers_similar(paper=paper, aspect=a, k=8)} for a in ASPECTS]
    return render(request, "ui/paper.html", {"paper": paper, "sentences": selectors.abstract_sentences(paper),
                                             "similar": similar, "bibtex": selectors.paper_bibtex(paper)})


@require_GET
def paper_bibtex(request, paper_id: int):
    paper = selectors.paper_get(paper_id=paper_id)
    response = HttpResponse(selectors.paper_bibtex(paper), content_type="application/x-bibtex; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{selectors.bibtex_key(paper)}.bib"'
    return response


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
    highlight = selectors.map_highlight(q=q, paper=paper, space=data["space"])
    idea_point = selectors.map_idea_point(space=data["space"], idea=idea) if idea else None
    return render(request, "ui/map.html", {"form": form, "space": data["space"], "paper": paper,
                                           "report": report if idea else None, "q": "" if idea else q,
                                           "highlight": highlight, "idea_point": idea_point})


@require_GET
@gzip_page
@cache_control(max_age=300)
def map_points(request, space: str):
    return JsonResponse(selectors.map_points(space=space))


@login_required
@require_GET
def import_list(request):
    jobs = paper_selectors.import_jobs_of(user=request.user)[:200]
    return render(request, "ui/import_list.html", {"jobs": jobs})


@login_required
@require_http_methods(["GET", "POST"])
def import_new(request):
    form = forms.UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        if over_limit("import", client_key(request)):
            return too_many("import")
        try:
            job = services.upload_import(upload=form.cleaned_data["file"], fmt=form.cleaned_data["format"],
                                         owner=request.user)
        except ImportRejected as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("import-detail", job_id=job.pk)
    return render(request, "ui/import_new.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_GET
def import_detail(request, job_id: int):
    job = selectors.import_job_get(job_id=job_id, user=request.user)
    return render(request, "ui/import_detail.html", {"job": job})


@login_required
@require_GET
def import_progress(request, job_id: int):
    """The progress fragment that htmx polls; it stops polling once the job is finished."""
    job = selectors.import_job_get(job_id=job_id, user=request.user)
    return render(request, "ui/_import_progress.html", {"job": job})


@require_http_methods(["GET", "POST"])
def signup(request):
    form = forms.SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.username}.")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_GET
def token_list(request):
    return render(request, "ui/tokens.html", {"tokens": api_services.tokens_of(user=request.user)})


@login_required
@require_POST
def token_create(request):
    name = request.POST.get("name", "").strip()[:100] or "API token"
    _, secret = api_services.token_create(user=request.user, name=name)
    return render(request, "ui/tokens.html", {"tokens": api_services.tokens_of(user=request.user), "secret": secret})


@login_required
@require_POST
def token_revoke(request, token_id: int):
    api_services.token_revoke(user=request.user, token_id=token_id)
    messages.info(request, "Token revoked.")
    return redirect("tokens")


@server_timing
def healthz(request):
    connection.ensure_connection()
    return JsonResponse({"ok": True, "papers": paper_selectors.paper_count()})
