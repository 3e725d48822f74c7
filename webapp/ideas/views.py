"""Browser views of inspiration and idea runs: parse the form, call one service or selector, render."""
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from webapp import writes
from webapp.http import Refused, rate_check, refused_render
from webapp.ideas import forms, selectors, services
from webapp.ideas.models import IdeaRun
from webapp.papers.models import Paper

EXPORTS = {"md": ("text/markdown", selectors.idea_run_markdown), "json": ("application/json", selectors.idea_run_json)}


@login_required
@require_http_methods(["GET", "POST"])
def inspire(request):
    """GET ?problem=... or ?paper=ID shows inspirations; POST starts an idea run on the problem."""
    paper = None
    if request.GET.get("paper", "").isdigit():
        paper = get_object_or_404(Paper, pk=int(request.GET["paper"]))
    initial = {"problem": services.paper_problem(paper) if paper else request.GET.get("problem", ""), "n": 5}
    form = forms.ProblemForm(request.POST or None, initial=initial)
    context = {"form": form, "inspirations": [], "error": "", "paper": paper}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            run, _ = writes.job_write(IdeaRun, user=request.user, key="", asked=data, create=lambda: (
                services.idea_run_create(owner=request.user, problem=data["problem"], constraints=data["constraints"],
                                         n=data["n"], from_paper=paper)))
        except Refused as exc:  # over quota, the LLM queue full, the job queue unreachable: nothing queued
            form.add_error(None, str(exc))
            return refused_render(request, "ideas/inspire.html", context, exc)
        return redirect("idea-run", run_id=run.pk)
    if request.method == "GET" and initial["problem"].strip():
        try:
            rate_check("inspire", request)
            context["inspirations"] = selectors.inspirations_for(problem=initial["problem"],
                                                                 exclude=(paper.pk,) if paper else ())
        except services.IdeasRejected as exc:
            context["error"] = str(exc)
        except Refused as exc:
            context["error"] = str(exc)
            return refused_render(request, "ideas/inspire.html", context, exc)
    return render(request, "ideas/inspire.html", context, status=400 if form.errors else 200)


@login_required
@require_GET
def idea_run_list(request):
    return render(request, "ideas/list.html", {"runs": selectors.idea_runs_of(user=request.user)[:200]})


@login_required
@require_GET
def idea_run_detail(request, run_id: int):
    run = selectors.idea_run_get(run_id=run_id, user=request.user)
    return render(request, "ideas/detail.html", {"run": run, "view": selectors.idea_run_view(run)})


@login_required
@require_GET
def idea_run_progress(request, run_id: int):
    """The stage fragment htmx polls; once finished it tells the page to reload for the result."""
    run = selectors.idea_run_get(run_id=run_id, user=request.user)
    response = render(request, "jobs/_progress.html", {"job": run})
    if run.is_finished:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_GET
def idea_run_export(request, run_id: int, fmt: str):
    run = selectors.idea_run_get(run_id=run_id, user=request.user)
    content_type, render_fn = EXPORTS[fmt]
    response = HttpResponse(render_fn(run), content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="ideas-{run.pk}.{fmt}"'
    return response
