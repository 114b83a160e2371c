"""The API's input in one canonical form each: ids, dates and instants (API.md conventions).

Python 3.11's `date.fromisoformat` and `datetime.fromisoformat` (which DRF and Django
use) also read "20261201", "2026-12-01 10:00Z" and week dates; a client that sends those
has a bug we should tell them about, not guess through. So the API reads:

- ids of related objects as JSON integers only (not 1.0, not "1");
- dates as `YYYY-MM-DD` only;
- instants as `YYYY-MM-DDTHH:MM:SS[.ffffff]` with `Z` or `±HH:MM`, nothing around them;
- yes-or-no answers as JSON true or false only (not "yes", not 1).
"""

import re
from datetime import date, datetime
from typing import Any

from django.db import models
from rest_framework import serializers

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
ISO_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?P<offset>Z|[+-][0-9]{2}:[0-9]{2})?",
    re.ASCII,
)
DATE_MESSAGE = "Must be a date as YYYY-MM-DD, e.g. 2026-11-02."
INSTANT_MESSAGE = "Must be an ISO 8601 date-time with its UTC offset, e.g. 2026-11-02T09:00:00-06:00."
NAIVE_MESSAGE = "Must include a UTC offset, e.g. 2026-11-02T09:00:00-06:00."
ID_MESSAGE = "Must be an id: a JSON whole number such as 12, not {data_type}."
BOOLEAN_MESSAGE = "Must be true or false (JSON), not {data_type}."


def iso_date(text: object) -> date | None:
    """The day `text` names as YYYY-MM-DD, or None (other spellings, impossible days)."""
    if not isinstance(text, str) or not ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def iso_instant(text: object) -> datetime | None:
    """The date-time `text` names in the one accepted spelling, or None.

    Without an offset the result is naive, so the caller can say "add an offset" rather
    than "not a date-time".
    """
    if not isinstance(text, str) or not ISO_INSTANT.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # hour 24, day 30 of February, year 0
        return None


class IdField(serializers.PrimaryKeyRelatedField):
    """A related object's id as a JSON integer; 1.0, "1" and true are refused, not read as 1."""

    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "incorrect_type": ID_MESSAGE,
    }

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("incorrect_type", data_type=_json_type(data))
        return super().to_internal_value(data)


class JsonIdField(serializers.IntegerField):
    """An id given as a plain JSON integer, in the database's range (a list of ids, say)."""

    default_error_messages = {**serializers.IntegerField.default_error_messages, "invalid": ID_MESSAGE}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=2**63 - 1, **kwargs)

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid", data_type=_json_type(data))
        return int(super().to_internal_value(data))


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false; DRF's own also reads "yes", "on" and 1, which a client never means."""

    default_error_messages = {**serializers.BooleanField.default_error_messages, "invalid": BOOLEAN_MESSAGE}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", data_type=_json_type(data))
        return data


class IsoDateField(serializers.DateField):
    """A day written YYYY-MM-DD and nothing else."""

    default_error_messages = {**serializers.DateField.default_error_messages, "invalid": DATE_MESSAGE}

    def to_internal_value(self, value: Any) -> date:
        day = iso_date(value)
        if day is None:
            self.fail("invalid")
        return super().to_internal_value(day)


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 instant that carries its UTC offset; naive or other spellings are refused.

    Instants before EARLIEST_INSTANT are refused by the session rules (trainers.rules).
    """

    default_error_messages = {
        **serializers.DateTimeField.default_error_messages,
        "invalid": INSTANT_MESSAGE,
        "naive": NAIVE_MESSAGE,
    }

    def to_internal_value(self, value: Any) -> datetime:
        instant = iso_instant(value)
        if instant is None:
            self.fail("invalid")
        if instant.utcoffset() is None:
            self.fail("naive")
        return super().to_internal_value(instant)


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose generated fields read ids and dates strictly (as above)."""

    serializer_related_field = IdField
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: IsoDateField,
        models.DateTimeField: AwareDateTimeField,
    }


def _json_type(value: object) -> str:
    """How the client wrote `value`, in JSON's words."""
    if isinstance(value, bool):
        return "a boolean"
    names = {
        str: "a string",
        int: "a number",
        float: "a number with a fraction",
        list: "a list",
        dict: "an object",
    }
    return "null" if value is None else names.get(type(value), type(value).__name__)
