"""Query-parameter filters of the list endpoints, named after fields (API.md)."""

from datetime import date, datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django_filters import rest_framework as filters

from core.api.fields import DATE_MESSAGE, INSTANT_MESSAGE, NAIVE_MESSAGE, iso_date, iso_instant
from core.periods import parse_period_key
from trainers.models import Activity, LabellingSession, Project, SessionSource, Worker
from trainers.rules import EARLIEST_INSTANT
from trainers.selectors import sessions_starting_in_period

MAX_ID = 2**63 - 1


class IdFormField(forms.IntegerField):
    """An id in ASCII digits only: Django's IntegerField also reads "1.0", " 1" and "+1"."""

    def to_python(self, value: object) -> int | None:
        if value in self.empty_values:
            return None
        if not (isinstance(value, str) and value.isascii() and value.isdigit()):
            raise forms.ValidationError("Must be an id: a whole number such as 12.", code="invalid")
        return super().to_python(value)


class IdFilter(filters.NumberFilter):
    """A bounded whole-number id, so huge or fractional input is a 400, never a 500."""

    field_class = IdFormField

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


class StrictBooleanField(forms.NullBooleanField):
    """`true` or `false` (or 1/0); anything else is a 400, not a silently ignored filter."""

    widget = forms.TextInput
    WORDS = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value: object) -> bool | None:  # type: ignore[override]
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word not in self.WORDS:
            raise forms.ValidationError("Use true or false.", code="invalid")
        return self.WORDS[word]


class StrictBooleanFilter(filters.BooleanFilter):
    """A boolean filter whose raw value reaches the field (django-filter's widget maps junk to None)."""

    field_class = StrictBooleanField

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs["widget"] = forms.TextInput
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


class AwareIsoDateTimeField(forms.DateTimeField):
    """An ISO 8601 instant with its UTC offset, spelled as in request bodies (core.api.fields)."""

    def to_python(self, value: object) -> datetime | None:
        """Parse the instant; refuse other spellings and naive values."""
        if value in self.empty_values:
            return None
        parsed = iso_instant(value)
        if parsed is None:
            raise forms.ValidationError(INSTANT_MESSAGE, code="invalid")
        if parsed.utcoffset() is None:
            raise forms.ValidationError(NAIVE_MESSAGE, code="invalid")
        if parsed < EARLIEST_INSTANT:
            raise forms.ValidationError(f"Must be on or after {EARLIEST_INSTANT:%Y-%m-%d}.")
        return parsed


class IsoDateFormField(forms.DateField):
    """A day as YYYY-MM-DD only (Django's DateField also reads 12/01/2026 and Dec 1 2026)."""

    def to_python(self, value: object) -> date | None:
        if value in self.empty_values:
            return None
        day = iso_date(value)
        if day is None:
            raise forms.ValidationError(DATE_MESSAGE, code="invalid")
        return day


class IsoDateFilter(filters.DateFilter):
    field_class = IsoDateFormField


class AwareDateTimeFilter(filters.Filter):
    field_class = AwareIsoDateTimeField


class PeriodField(forms.CharField):
    """An ISO week key such as 2026-W45, with nothing around it (as in request bodies)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["strip"] = False
        super().__init__(*args, **kwargs)

    def validate(self, value: str) -> None:
        """Refuse anything that is not a real ISO week."""
        super().validate(value)
        if value:
            try:
                parse_period_key(value)
            except ValueError as error:
                raise forms.ValidationError(str(error)) from error


class PeriodFilter(filters.CharFilter):
    field_class = PeriodField


class WorkerFilter(filters.FilterSet):
    team = IdFilter(field_name="team_id")
    is_active = StrictBooleanFilter()

    class Meta:
        model = Worker
        fields = ["team", "is_active"]


class ProjectFilter(filters.FilterSet):
    is_active = StrictBooleanFilter()
    client = filters.CharFilter(max_length=200)

    class Meta:
        model = Project
        fields = ["is_active", "client"]


class SessionFilter(filters.FilterSet):
    worker = IdFilter(field_name="worker_id")
    project = IdFilter(field_name="project_id")
    source = filters.ChoiceFilter(choices=SessionSource.choices)
    activity = filters.ChoiceFilter(choices=Activity.choices)
    period = PeriodFilter(method="filter_period", help_text="ISO week in each worker's zone, e.g. 2026-W45.")
    started_after = AwareDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = AwareDateTimeFilter(field_name="started_at", lookup_expr="lt")
    running = StrictBooleanFilter(field_name="ended_at", lookup_expr="isnull")
    needs_review = StrictBooleanFilter()

    class Meta:
        model = LabellingSession
        fields = [
            "worker",
            "project",
            "source",
            "activity",
            "period",
            "started_after",
            "started_before",
            "running",
            "needs_review",
        ]

    def filter_period(
        self, queryset: QuerySet[LabellingSession], name: str, value: str
    ) -> QuerySet[LabellingSession]:
        """Keep sessions starting in the period, read in each worker's own zone."""
        return sessions_starting_in_period(queryset, value) if value else queryset
