"""Template filters of the web pages: durations as h:mm:ss."""

from django import template

register = template.Library()


@register.filter
def clock(seconds: int | None) -> str:
    """Seconds as h:mm:ss, e.g. 14710 -> '4:05:10' (empty for None)."""
    if seconds is None:
        return ""
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}"
