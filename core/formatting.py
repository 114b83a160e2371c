"""How figures read on every surface (API, pages, PDFs, exports): durations and rates.

Here, not in payroll, because trainers' template filters use them too (trainers never
imports payroll).
"""

from decimal import Decimal

CENT = Decimal("0.01")


def clock_hours(seconds: int) -> str:
    """Seconds as h:mm:ss, e.g. 14710 -> '4:05:10'."""
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}"


def rate_text(rate: Decimal) -> str:
    """A rate shown with at least two decimals and never rounded: 15 -> '15.00', 20.862 -> '20.862'."""
    cents = rate.quantize(CENT)
    return f"{cents:f}" if cents == rate else f"{rate.normalize():f}"
