"""Browser views of the library, digests and novelty watch: parse input, call one service or
selector, render. Everything but the feed and the unsubscribe link (both authorised by a token of
their own) needs a login; another user's collection, search or idea is a 404."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from webapp.imports.services import ImportRejected
from webapp.library import digests, forms, selectors, services
from webapp.library.models import Digest, DigestSettings, Frequency, WatchAlert
from webapp.reports.models import NoveltyReport


def _back(request, fallback: str):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect(fallback)


@login_required
@require_GET
def library(request):
    services.collection_imports_settle(owner=request.user)
    return render(request, "library/library.html", {
        "collections": selectors.collections_of(owner=request.user), "searches": request.user.saved_searches.all(),
        "ideas": request.user.saved_ideas.all(), "import_form": forms.ImportForm()})


@login_required
@require_POST
def collection_new(request):
    try:
        collection = services.collection_create(owner=request.user, name=request.POST.get("name", ""))
    except services.LibraryRejected as exc:
        messages.error(request, str(exc))
        return redirect("library")
    return redirect("collection", collection_id=collection.pk)


@login_required
@require_GET
def collection_detail(request, collection_id: int):
    collection = selectors.collection_get(owner=request.user, collection_id=collection_id)
    services.collection_imports_settle(owner=request.user)
    return render(request, "library/collection.html", {
        "collection": collection, "papers": selectors.collection_papers(collection),
        "pending": collection.imports.filter(settled=False).select_related("job")})


@login_required
@require_POST
def collection_delete(request, collection_id: int):
    services.collection_delete(owner=request.user, collection_id=collection_id)
    messages.info(request, "Collection deleted.")
    return redirect("library")


EXPORTS = {"bib": ("application/x-bibtex", selectors.collection_bibtex),
           "json": ("application/json", selectors.collection_json)}


@login_required
@require_GET
def collection_export(request, collection_id: int, fmt: str):
    collection = selectors.collection_get(owner=request.user, collection_id=collection_id)
    content_type, render_fn = EXPORTS[fmt]
    response = HttpResponse(render_fn(collection), content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="collection-{collection.pk}.{fmt}"'
    return response


@login_required
@require_POST
def collection_import(request):
    form = forms.ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a BibTeX or RIS file.")
        return redirect("library")
    try:
        collection = services.collection_import(owner=request.user, upload=form.cleaned_data["file"],
                                                name=form.cleaned_data["name"])
    except (services.LibraryRejected, ImportRejected) as exc:
        messages.error(request, str(exc))
        return redirect("library")
    return redirect("collection", collection_id=collection.pk)


@login_required
@require_POST
def paper_save(request):
    form = forms.SaveForm(request.POST)
    if not form.is_valid():
        raise Http404("no such paper")
    data = form.cleaned_data
    try:
        collection = services.paper_save(owner=request.user, paper_id=data["paper"],
                                         collection_id=data["collection"], new_name=data["new_name"])
    except services.LibraryRejected as exc:
        messages.error(request, str(exc))
        return _back(request, "library")
    messages.success(request, f"Saved to “{collection.name}”.")
    return _back(request, "library")


@login_required
@require_POST
def paper_remove(request, collection_id: int, paper_id: int):
    services.paper_remove(owner=request.user, collection_id=collection_id, paper_id=paper_id)
    return redirect("collection", collection_id=collection_id)


@login_required
@require_POST
def search_save(request):
    try:
        services.search_save(owner=request.user, params=request.POST)
    except services.LibraryRejected as exc:
        messages.error(request, str(exc))
        return _back(request, "library")
    messages.success(request, "Search saved to your library.")
    return _back(request, "library")


@login_required
@require_POST
def search_delete(request, search_id: int):
    services.search_delete(owner=request.user, search_id=search_id)
    return redirect("library")


@login_required
@require_http_methods(["GET", "POST"])
def idea_new(request):
    report_id = request.GET.get("report") or request.POST.get("report") or None
    report = get_object_or_404(NoveltyReport, pk=report_id, owner=request.user) if report_id else None
    initial = {"problem": report.problem, "method": report.method, "findings": report.findings} if report else {}
    form = forms.IdeaForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        idea = services.idea_create(owner=request.user, report_id=report.pk if report else None, **form.cleaned_data)
        return redirect("saved-idea", idea_id=idea.pk)
    return render(request, "library/idea_new.html", {"form": form, "report": report},
                  status=400 if form.errors else 200)


@login_required
@require_GET
def idea_detail(request, idea_id: int):
    idea = selectors.idea_get(owner=request.user, idea_id=idea_id)
    history = selectors.idea_history(idea)
    return render(request, "library/idea.html", {
        "idea": idea, "history": history, "chart": selectors.novelty_chart(history),
        "alerts": idea.alerts.select_related("paper"), "reports": idea.reports.all()})


@login_required
@require_POST
def idea_delete(request, idea_id: int):
    services.idea_delete(owner=request.user, idea_id=idea_id)
    return redirect("library")


@login_required
@require_POST
def idea_watch(request, idea_id: int):
    services.idea_watch_set(owner=request.user, idea_id=idea_id, watch=request.POST.get("watch") == "1")
    return redirect("saved-idea", idea_id=idea_id)


@login_required
@require_GET
def digest_page(request):
    prefs = digests.settings_of(request.user)
    recent = Digest.objects.filter(user=request.user).prefetch_related("items__paper", "alerts__paper",
                                                                        "alerts__idea")[:7]
    pending = WatchAlert.objects.filter(idea__owner=request.user, digest=None).select_related("paper", "idea")
    return render(request, "library/digest.html", {
        "prefs": prefs, "digests": recent, "pending": pending, "form": forms.FrequencyForm(instance=prefs),
        "feed_url": request.build_absolute_uri(f"/digest/feed/{prefs.feed_token}.atom")})


@login_required
@require_POST
def digest_settings(request):
    prefs = digests.settings_of(request.user)
    form = forms.FrequencyForm(request.POST, instance=prefs)
    if form.is_valid():
        form.save()
        messages.success(request, f"Digest: {prefs.get_frequency_display().lower()}.")
    return redirect("digest")


@csrf_exempt  # the signed token is the authorisation; a mail client's one-click POST has no CSRF token
@require_http_methods(["GET", "POST"])
def digest_unsubscribe(request, token: str):
    user = digests.unsubscribe_user(token)
    if user is None:
        raise Http404("this unsubscribe link is not valid")
    if request.method == "POST":
        DigestSettings.objects.update_or_create(user=user, defaults={"frequency": Frequency.OFF})
        return render(request, "library/unsubscribed.html", {"done": True, "token": token})
    return render(request, "library/unsubscribed.html", {"done": False, "token": token})


class DigestFeed(Feed):
    """The reader's digests and alerts as Atom, at a private URL (DigestSettings.feed_token)."""
    feed_type = Atom1Feed
    title = "Ideation Space: your digest"
    description = "New papers ranked against your library, and novelty-watch alerts"

    def get_object(self, request, token: str):
        return get_object_or_404(DigestSettings.objects.select_related("user"), feed_token=token)

    def link(self, obj):
        return "/digest/"

    def items(self, obj):
        items = [("item", i) for d in Digest.objects.filter(user=obj.user)[:10]
                 for i in d.items.select_related("paper", "digest")]
        alerts = WatchAlert.objects.filter(idea__owner=obj.user).select_related("paper", "idea")[:50]
        alerts = [("alert", a) for a in alerts]
        return alerts + items

    def item_title(self, item):
        kind, row = item
        return f"Novelty alert: {row.idea.title}" if kind == "alert" else row.paper.title

    def item_description(self, item):
        kind, row = item
        # Atom's summary is type="html": the text is escaped so a reader shows it, never runs it
        return escape(digests.alert_line(row) if kind == "alert" else row.reason)

    def item_link(self, item):
        kind, row = item
        if kind == "alert":
            return f"/library/ideas/{row.idea_id}/#alert-{row.pk}"
        return f"/papers/{row.paper_id}/?digest={row.digest_id}"  # one entry per digest that picked it

    def item_pubdate(self, item):
        kind, row = item
        return row.created_at if kind == "alert" else row.digest.created_at
