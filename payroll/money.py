"""The one rounding helper, and the arithmetic that turns seconds and rates into money.

PAY_RULES: Decimal everywhere, half-up to the cent, once per line. The products below
are computed in a context wide enough to be exact, so `round_half_up` is the only
rounding an amount ever sees.
"""

from decimal import ROUND_HALF_UP, Context, Decimal

CENT = Decimal("0.01")
ONE = Decimal(1)
SECONDS_PER_HOUR = Decimal(3600)
# 60 significant digits: seconds (7) x rate (10) x multiplier (4) / 3600 never needs more.
_EXACT = Context(prec=60)


def round_half_up(amount: Decimal) -> Decimal:
    """Round to the cent, ties away from zero (never Python's round(): it ties to even)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def line_amount(seconds: int, hourly_rate: Decimal, multiplier: Decimal = ONE) -> Decimal:
    """round_half_up(seconds x hourly_rate x multiplier / 3600): the amount of one line."""
    product = _EXACT.multiply(_EXACT.multiply(Decimal(seconds), hourly_rate), multiplier)
    return round_half_up(_EXACT.divide(product, SECONDS_PER_HOUR))


def decimal_hours(seconds: int) -> Decimal:
    """Hours to two places, for display beside h:mm:ss (never used to compute money)."""
    return round_half_up(_EXACT.divide(Decimal(seconds), SECONDS_PER_HOUR))


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


class ShownTime:
    """Time as a reader sees it beside its seconds: decimal hours and h:mm:ss (display only)."""

    seconds: int

    @property
    def hours(self) -> Decimal:
        return decimal_hours(self.seconds)

    @property
    def duration(self) -> str:
        return clock_hours(self.seconds)
