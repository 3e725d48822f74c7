"""Browser views of feeds: list yours, add, change or delete one, harvest now, follow a harvest."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from webapp.feeds import forms, selectors, services


@login_required
@require_GET
def feed_list(request):
    return render(request, "feeds/list.html", {"feeds": selectors.feeds_of(user=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def feed_new(request):
    form = forms.FeedForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            feed = services.feed_create(owner=request.user, **form.cleaned_data)
        except services.FeedRejected as exc:
            form.add_error(None, str(exc))
        else:
            return redirect(feed)
    return render(request, "feeds/form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def feed_edit(request, feed_id: int):
    feed = selectors.feed_get(feed_id=feed_id, user=request.user)
    form = forms.FeedForm(request.POST or None, instance=feed, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.feed_update(feed=selectors.feed_get(feed_id=feed_id, user=request.user), **form.cleaned_data)
        return redirect(feed)
    return render(request, "feeds/form.html", {"form": form, "feed": feed}, status=400 if form.errors else 200)


@login_required
@require_GET
def feed_detail(request, feed_id: int):
    feed = selectors.feed_get(feed_id=feed_id, user=request.user)
    harvests = feed.harvests.order_by("-created_at", "-pk")[:20]
    return render(request, "feeds/detail.html", {"feed": feed, "harvests": harvests})


@login_required
@require_POST
def feed_harvest(request, feed_id: int):
    feed = selectors.feed_get(feed_id=feed_id, user=request.user)
    harvest, new = services.harvest_start(feed=feed)
    if not new:
        messages.info(request, f"Harvest #{harvest.pk} of this feed is still under way.")
    return redirect(feed)


@login_required
@require_POST
def feed_delete(request, feed_id: int):
    feed = selectors.feed_get(feed_id=feed_id, user=request.user)
    feed.delete()  # the papers it brought stay in the corpus
    messages.info(request, f"Feed {feed.name} deleted; the papers it harvested stay in the corpus.")
    return redirect("feeds")


@login_required
@require_GET
def harvest_progress(request, harvest_id: int):
    """The progress fragment that htmx polls; it stops polling once the harvest is finished."""
    harvest = selectors.harvest_get(harvest_id=harvest_id, user=request.user)
    return render(request, "jobs/_progress.html", {"job": harvest, "details": "feeds/_counts.html"})
