"""Browser views of import jobs: upload a file, list your jobs, follow one; the site's activity."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from webapp import writes
from webapp.http import Refused, rate_check, refused_render
from webapp.imports import forms, selectors, services
from webapp.imports.models import ImportJob


@login_required
@require_GET
def import_list(request):
    jobs = selectors.import_jobs_of(user=request.user)[:200]
    return render(request, "imports/list.html", {"jobs": jobs})


@login_required
@require_http_methods(["GET", "POST"])
def import_new(request):
    form = forms.UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rate_check("import", request)
            job, _ = writes.job_write(ImportJob, user=request.user, key="", asked=None, create=lambda: (
                services.upload_import(upload=data["file"], fmt=data["format"], owner=request.user)))
        except services.ImportRejected as exc:
            form.add_error("file", str(exc))
        except Refused as exc:  # over the rate limit, or the job queue unreachable: the upload is not kept
            form.add_error(None, str(exc))
            return refused_render(request, "imports/new.html", {"form": form}, exc)
        else:
            return redirect("import-detail", job_id=job.pk)
    return render(request, "imports/new.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_GET
def import_detail(request, job_id: int):
    job = selectors.import_job_get(job_id=job_id, user=request.user)
    return render(request, "imports/detail.html", {"job": job})


@login_required
@require_GET
def import_progress(request, job_id: int):
    """The progress fragment that htmx polls; it stops polling once the job is finished."""
    job = selectors.import_job_get(job_id=job_id, user=request.user)
    return render(request, "jobs/_progress.html", {"job": job, "details": "imports/_counts.html"})


@require_GET
def site_activity(request):
    """What the site is importing and indexing now (counts only, anyone may see them): the home
    page polls it while there is something to say, and it stops polling once the site is idle."""
    return render(request, "imports/_site_activity.html", {"activity": selectors.site_activity()})
