"""What the site is importing and indexing now, for the home page (polled while it lasts)."""
from django import template

from webapp.imports import selectors

register = template.Library()


@register.inclusion_tag("imports/_site_activity.html")
def site_activity():
    return {"activity": selectors.site_activity()}
