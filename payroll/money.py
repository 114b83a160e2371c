"""The one rounding helper, and the arithmetic that turns seconds and rates into money.

PAY_RULES: Decimal everywhere, half-up to the cent, once per line. The products below
are computed in a context wide enough to be exact, so `round_half_up` is the only
rounding an amount ever sees.
"""

from decimal import ROUND_HALF_UP, Context, Decimal

from core.formatting import clock_hours, rate_text

__all__ = [
    "ShownTime",
    "clock_hours",
    "decimal_hours",
    "effective_hourly",
    "line_amount",
    "rate_text",
    "round_half_up",
    "tasks_amount",
]

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


def tasks_amount(units: int, task_rate: Decimal) -> Decimal:
    """round_half_up(units x task_rate): the amount of one task line (PAY_RULES §9)."""
    return round_half_up(_EXACT.multiply(Decimal(units), task_rate))


def effective_hourly(amount: Decimal, seconds: int) -> Decimal | None:
    """What an amount paid per hour of `seconds`, to the cent (display only; None for no time)."""
    if not seconds:
        return None
    return round_half_up(_EXACT.divide(_EXACT.multiply(amount, SECONDS_PER_HOUR), Decimal(seconds)))


def decimal_hours(seconds: int) -> Decimal:
    """Hours to two places, for display beside h:mm:ss (never used to compute money)."""
    return round_half_up(_EXACT.divide(Decimal(seconds), SECONDS_PER_HOUR))


class ShownTime:
    """Time as a reader sees it beside its seconds: decimal hours and h:mm:ss (display only)."""

    seconds: int

    @property
    def hours(self) -> Decimal:
        return decimal_hours(self.seconds)

    @property
    def duration(self) -> str:
        return clock_hours(self.seconds)
