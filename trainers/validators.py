"""Field validators and input readers shared by models, forms, filters and serializers."""

import re
import zoneinfo
from datetime import datetime
from functools import cache

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from trainers.currencies import ISO_4217_CODES


@cache
def _time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    """Accept only IANA time zone names such as `America/Chicago`."""
    if value not in _time_zone_names():
        raise ValidationError(f"'{value}' is not an IANA time zone such as America/Chicago.")


def validate_currency(value: str) -> None:
    """Accept only ISO 4217 alphabetic codes such as `USD`."""
    if value not in ISO_4217_CODES:
        raise ValidationError(f"'{value}' is not an ISO 4217 currency code such as USD.")


def parsed_datetime(value: object) -> datetime | None:
    """An ISO 8601 date-time read from text, or None if it is none (a 13th month included)."""
    try:
        return parse_datetime(str(value).strip())
    except ValueError:
        return None


# A number as a person types it: ASCII digits, an optional sign and decimal point. Python's
# int() and Decimal() also take "1_000" and other scripts' digits; money must not.
PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
PLAIN_NUMBER_MESSAGE = "Write the number with the digits 0-9 and a dot, e.g. 12.50."


def is_plain_number(value: object) -> bool:
    """True unless `value` is text that is not a plain ASCII number.

    JSON numbers pass, and so does empty text: whether a value is required is the field's
    own rule, with its own message.
    """
    if not isinstance(value, str) or not value.strip():
        return True
    return PLAIN_NUMBER.fullmatch(value.strip()) is not None
