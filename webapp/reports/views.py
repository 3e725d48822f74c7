"""Browser views of novelty reports: parse the form, call one service or selector, render."""
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from webapp import writes
from webapp.http import Refused, rate_check, refused_render
from webapp.reports import forms, selectors, services
from webapp.reports.models import NoveltyReport

EXPORTS = {"md": ("text/markdown", selectors.report_markdown), "json": ("application/json", selectors.report_json),
           "bib": ("application/x-bibtex", selectors.report_bibtex)}


@login_required
@require_GET
def report_list(request):
    return render(request, "reports/list.html", {"rows": selectors.report_rows(user=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def report_new(request):
    """POST action=split fills the three fields from the free text for the user to correct;
    action=run creates the report."""
    # GET ?problem=&method=&findings= prefills the form (the gap map links a combination here)
    form = forms.IdeaForm(request.POST or None, initial={k: request.GET.get(k, "") for k in ("problem", "method", "findings")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("action") == "split":
                rate_check("split", request)
                fields = services.report_split(text=data["text"])
                form = forms.IdeaForm(initial={**data, **fields})
                return render(request, "reports/new.html", {"form": form, "split": True})
            report, _ = writes.job_write(NoveltyReport, user=request.user, key="", asked=data, create=lambda: (
                services.report_create(owner=request.user, problem=data["problem"], method=data["method"],
                                       findings=data["findings"], as_of=data["as_of"])))
        except Refused as exc:  # over quota, the LLM queue full, the job queue unreachable: nothing queued
            form.add_error(None, str(exc))
            return refused_render(request, "reports/new.html", {"form": form}, exc)
        return redirect("report-detail", report_id=report.pk)
    return render(request, "reports/new.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_GET
def report_detail(request, report_id: int):
    report = selectors.report_get(report_id=report_id, user=request.user)
    return render(request, "reports/detail.html", {"report": report, "view": selectors.report_view(report)})


@login_required
@require_GET
def report_progress(request, report_id: int):
    """The stage fragment htmx polls; once finished it tells the page to reload for the result."""
    report = selectors.report_get(report_id=report_id, user=request.user)
    response = render(request, "jobs/_progress.html", {"job": report})
    if report.is_finished:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_GET
def report_export(request, report_id: int, fmt: str):
    report = selectors.report_get(report_id=report_id, user=request.user)
    content_type, render_fn = EXPORTS[fmt]
    response = HttpResponse(render_fn(report), content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="novelty-report-{report.pk}.{fmt}"'
    return response
