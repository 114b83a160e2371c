"""Template filters of the web pages: durations as h:mm:ss, rates as the API shows them, wall times."""

from datetime import datetime
from decimal import Decimal

from django import template
from django.utils import dateformat, timezone

from core.formatting import clock_hours, rate_text

register = template.Library()


@register.filter
def clock(seconds: int | None) -> str:
    """Seconds as h:mm:ss, e.g. 14710 -> '4:05:10' (empty for None)."""
    return "" if seconds is None else clock_hours(int(seconds))


@register.filter
def rate(value: Decimal | None) -> str:
    """An hourly rate as the API shows it: at least two decimals, never a digit dropped."""
    return "" if value is None else rate_text(Decimal(value))


@register.filter
def percent(fraction: Decimal | None) -> str:
    """A fraction as a percentage without noise: 0.1900 -> '19', 0.0750 -> '7.5'."""
    if fraction is None:
        return ""
    value = (Decimal(fraction) * 100).normalize()
    return f"{value:f}"


@register.filter
def wall(instant: datetime | None, fmt: str) -> str:
    """A time as the wall clock showed it, with the zone's name when that hour happened twice.

    On a fall-back night 01:10 CDT and 01:10 CST are an hour apart; shown bare they look alike.
    """
    if instant is None:
        return ""
    local = timezone.localtime(instant)
    text = dateformat.format(local, fmt)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        text += f" {local.tzname()}"
    return text
