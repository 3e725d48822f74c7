"""Reads for feeds: a feed or harvest its owner may see (staff: every one), a user's feeds."""
from django.db.models import QuerySet
from django.http import Http404

from webapp.feeds.models import Feed, Harvest


def feeds_of(*, user) -> QuerySet[Feed]:
    """The user's feeds; staff see everyone's (they run the folder feeds and fix broken ones)."""
    feeds = Feed.objects.select_related("owner")
    return feeds if user.is_staff else feeds.filter(owner=user)


def feed_get(*, feed_id: int, user) -> Feed:
    """Anyone but the owner (and staff) gets the 404 of a feed that does not exist."""
    try:
        return feeds_of(user=user).get(pk=feed_id)
    except Feed.DoesNotExist:
        raise Http404("no such feed") from None


def harvest_get(*, harvest_id: int, user) -> Harvest:
    try:
        return Harvest.objects.select_related("feed").get(pk=harvest_id, feed__in=feeds_of(user=user))
    except Harvest.DoesNotExist:
        raise Http404("no such harvest") from None


def feed_by_name(name: str) -> Feed:
    """For the command line: a feed by its name (or id); LookupError says why not."""
    feeds = list(Feed.objects.filter(pk=int(name)) if name.isdigit() else Feed.objects.filter(name=name))
    if not feeds:
        raise LookupError(f"no feed called {name!r}")
    if len(feeds) > 1:
        owners = ", ".join(f"#{f.pk} ({f.owner})" for f in feeds)
        raise LookupError(f"{len(feeds)} feeds are called {name!r}: {owners}; give the id")
    return feeds[0]
