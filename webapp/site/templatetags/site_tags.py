"""Template helpers for the browser pages (`{% load site_tags %}`)."""
from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def with_page(context, number: int) -> str:
    """The current query string with another page number, so pagination keeps the search."""
    params = context["request"].GET.copy()
    params["page"] = number
    return "?" + params.urlencode()


@register.filter
def sim(value) -> str:
    """A cosine similarity for display: two decimals, a dash when absent."""
    return "–" if value is None else f"{float(value):.2f}"
