"""Forms of the contractor's pages: shapes and widgets only; the services hold the rules.

Field names are the API's (project, started_at, ended_at, task_count, notes), so a
service's InvalidInput lands on the field it names, in the same words as the API.
Times are typed in the worker's own zone (the views activate it) and stored aware.
"""

from typing import Any

from django import forms
from django.db.models import QuerySet

from trainers.models import MAX_NOTES_LENGTH, MAX_TASK_COUNT, Project

LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S")


class ProjectChoiceForm(forms.Form):
    """A form whose project choices are the caller's active projects."""

    project = forms.ModelChoiceField(queryset=Project.objects.none(), empty_label=None)

    def __init__(self, *args: Any, projects: QuerySet[Project], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects  # type: ignore[attr-defined]


class TimerStartForm(ProjectChoiceForm):
    notes = forms.CharField(max_length=MAX_NOTES_LENGTH, required=False, label="Notes (optional)")


class TimerStopForm(forms.Form):
    task_count = forms.IntegerField(
        min_value=0, max_value=MAX_TASK_COUNT, required=False, label="Tasks done (optional)"
    )


class SessionForm(ProjectChoiceForm):
    started_at = forms.DateTimeField(label="Started", widget=LOCAL_INPUT, help_text="In your time zone.")
    ended_at = forms.DateTimeField(label="Ended", widget=LOCAL_INPUT, help_text="In your time zone.")
    task_count = forms.IntegerField(min_value=0, max_value=MAX_TASK_COUNT, initial=0, label="Tasks done")
    notes = forms.CharField(
        max_length=MAX_NOTES_LENGTH, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: project, started_at, ended_at (ISO 8601 with an offset), task_count, notes.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
