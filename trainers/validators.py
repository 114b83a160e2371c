"""Field validators shared by models, serializers and the CSV import."""

import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError

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
