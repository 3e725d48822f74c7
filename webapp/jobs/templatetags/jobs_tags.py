"""Job progress in words: the ETA of a job's current phase."""
from django import template

register = template.Library()


@register.filter
def eta(seconds) -> str:
    """"about 40 s left", "about 3 min left", "about 2 h left"; "" without an estimate."""
    if seconds is None:
        return ""
    seconds = max(1, round(seconds))
    if seconds < 90:
        return f"about {seconds} s left"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} min left"
    return f"about {seconds / 3600:.1f} h left"
