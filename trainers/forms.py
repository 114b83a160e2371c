"""Forms of the contractor's pages: shapes and widgets only; the services hold the rules.

Field names are the API's (project, started_at, ended_at, task_count, notes), so a
service's InvalidInput lands on the field it names, in the same words as the API.
Times are typed in the worker's own zone (the views activate it) and stored aware.
"""

from datetime import UTC, datetime
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.db.models import QuerySet
from django.forms.fields import BaseTemporalField
from django.utils import timezone

from trainers.models import MAX_NOTES_LENGTH, MAX_TASK_COUNT, Activity, Project
from trainers.rules import EARLIEST_INSTANT, EARLIEST_MESSAGE, FUTURE_MESSAGE
from trainers.validators import PLAIN_NUMBER_MESSAGE, is_plain_number, parsed_datetime

USERNAME_MAX_LENGTH = 150  # Django's user model
LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S")


class SignInForm(AuthenticationForm):
    """Django's sign-in form, with the username's length checked before anyone authenticates.

    Django sets the field's max_length after building it, so no validator runs, and a failed
    login of a 256-character name reached django-axes' 255-character column (a 500).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = getattr(self.fields["username"], "max_length", None) or USERNAME_MAX_LENGTH
        self.fields["username"].validators.append(MaxLengthValidator(limit))


class PlainIntegerField(forms.IntegerField):
    """A whole number in ASCII digits, as the API and the CSV import read it."""

    def to_python(self, value: Any) -> int | None:
        if not is_plain_number(value):
            raise forms.ValidationError(PLAIN_NUMBER_MESSAGE, code="invalid")
        return super().to_python(value)


class PlainDecimalField(forms.DecimalField):
    """A decimal in ASCII digits and a dot, as the API reads money."""

    def to_python(self, value: Any) -> Any:
        if not is_plain_number(value):
            raise forms.ValidationError(PLAIN_NUMBER_MESSAGE, code="invalid")
        return super().to_python(value)


class ProjectChoiceForm(forms.Form):
    """A form whose project choices are the caller's active projects."""

    project = forms.ModelChoiceField(queryset=Project.objects.none(), empty_label=None)

    def __init__(self, *args: Any, projects: QuerySet[Project], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects  # type: ignore[attr-defined]


def activity_field() -> forms.ChoiceField:
    """What the time is spent on (PAY_RULES §8): labelling unless the contractor says otherwise.

    Not required: a form sent without it (an older page) keeps the session's activity, or
    records labelling (see ActivityChoice.clean_activity).
    """
    return forms.ChoiceField(choices=Activity.choices, initial=Activity.LABELLING, required=False)


class ActivityChoice(forms.Form):
    def clean_activity(self) -> str:
        return str(self.cleaned_data.get("activity") or self.initial.get("activity") or Activity.LABELLING)


class TimerStartForm(ActivityChoice, ProjectChoiceForm):
    activity = activity_field()
    notes = forms.CharField(max_length=MAX_NOTES_LENGTH, required=False, label="Notes (optional)")


class TimerStopForm(forms.Form):
    task_count = PlainIntegerField(
        min_value=0, max_value=MAX_TASK_COUNT, required=False, label="Tasks done (optional)"
    )


class WallClockField(forms.DateTimeField):
    """A time as a clock on the wall shows it, left naive: the form places it in the zone.

    Django would refuse the repeated hour of a fall-back night outright; Fairhour asks
    which of the two it was instead (LESSONS: never shift a session by an hour).
    """

    def to_python(self, value: Any) -> datetime | None:  # type: ignore[override]
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value
        parsed = parsed_datetime(value)
        return parsed or BaseTemporalField.to_python(self, value)

    def has_changed(self, initial: Any, data: Any) -> bool:
        """Compare with the initial instant as the same wall clock shows it."""
        try:
            wall = self.to_python(data)
        except forms.ValidationError:
            return True
        if isinstance(initial, datetime) and initial.tzinfo is not None:
            initial = timezone.localtime(initial).replace(tzinfo=None)
        return initial != wall


FAR_FUTURE_YEAR = 3000  # past the periods Fairhour holds, and far from the end of the calendar
FOLD_CHOICES = [
    ("", "Choose"),
    ("0", "The first time (before the clocks went back)"),
    ("1", "The second time"),
]


class SessionForm(ActivityChoice, ProjectChoiceForm):
    activity = activity_field()
    started_at = WallClockField(label="Started", widget=LOCAL_INPUT, help_text="In your time zone.")
    ended_at = WallClockField(label="Ended", widget=LOCAL_INPUT, help_text="In your time zone.")
    task_count = PlainIntegerField(min_value=0, max_value=MAX_TASK_COUNT, initial=0, label="Tasks done")
    notes = forms.CharField(
        max_length=MAX_NOTES_LENGTH, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    # Shown only when a time falls in the hour a fall-back night repeats.
    started_at_fold = forms.ChoiceField(choices=FOLD_CHOICES, required=False, widget=forms.HiddenInput)
    ended_at_fold = forms.ChoiceField(choices=FOLD_CHOICES, required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        """Place each wall-clock time in the worker's zone (the view activates it)."""
        cleaned = super().clean() or {}
        for name in ("started_at", "ended_at"):
            value = cleaned.get(name)
            if name not in self.changed_data and isinstance(self.initial.get(name), datetime):
                cleaned[name] = self.initial[name]  # untouched: keep the very instant, fold included
            elif isinstance(value, datetime) and value.tzinfo is None:
                placed = self._in_zone(name, value, cleaned.get(f"{name}_fold", ""))
                if placed is not None:
                    cleaned[name] = placed
        for name in ("started_at_fold", "ended_at_fold"):  # a hint for the times, not a session field
            cleaned.pop(name, None)
        return cleaned

    def _in_zone(self, name: str, wall: datetime, fold: str) -> datetime | None:
        if wall.year < EARLIEST_INSTANT.year or wall.year >= FAR_FUTURE_YEAR:  # the API's words
            too_early = wall.year < EARLIEST_INSTANT.year
            self.add_error(name, EARLIEST_MESSAGE if too_early else FUTURE_MESSAGE)
            return None
        zone = timezone.get_current_timezone()
        first, second = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
        if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
            self.add_error(
                name, f"{wall:%H:%M} does not exist on that day in {zone}: the clocks went forward."
            )
            return None
        if first.utcoffset() == second.utcoffset():
            return first
        if fold in ("0", "1"):
            return second if fold == "1" else first
        self.fields[f"{name}_fold"].widget = forms.Select(choices=FOLD_CHOICES)
        self.fields[f"{name}_fold"].label = f"Which {wall:%H:%M}?"
        self.add_error(
            name, f"{wall:%H:%M} happens twice that night in {zone} (the clocks went back): say which."
        )
        return None


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: project, started_at, ended_at (ISO 8601 with an offset), task_count, notes.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
