"""`{% load library_tags %}`: the small "save to a collection" form on search results and paper
pages (plain HTML: it works without JavaScript and under a strict Content-Security-Policy)."""
from django import template

register = template.Library()


@register.inclusion_tag("library/_save.html", takes_context=True)
def save_to_collection(context, paper):
    request = context["request"]
    if not request.user.is_authenticated:
        return {"paper": paper, "show": False}
    if not hasattr(request, "_library_collections"):  # one query per page, however many results
        from webapp.library.models import Collection

        request._library_collections = list(Collection.objects.filter(owner=request.user).only("pk", "name"))
    return {"paper": paper, "show": True, "collections": request._library_collections,
            "next": request.get_full_path(), "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("library/_save_search.html", takes_context=True)
def save_search(context):
    request = context["request"]
    return {"show": request.user.is_authenticated, "params": request.GET, "next": request.get_full_path(),
            "csrf_token": context.get("csrf_token")}
