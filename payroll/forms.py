"""Forms of the pay pages: shapes and widgets only; the services say what is wrong.

Fields are named as in the API so a service's InvalidInput lands on the right field;
required-ness of notes is left to the services, which word it (a reason the rules always
require is marked required here, with the service's words).
"""

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet

from core.periods import parse_period_key
from payroll.models import MAX_HOURLY_RATE, InvoiceStatus, TimesheetStatus
from payroll.selectors.reports import GROUP_BY
from payroll.serializers.fields import (
    LARGEST_ADJUSTMENT,
    MAX_NOTE_LENGTH,
    MAX_PAYMENT_REFERENCE_LENGTH,
    MAX_REASON_LENGTH,
)
from payroll.services.adjustments import REASON_NEEDED
from payroll.services.exports import FORMATS
from trainers.forms import PlainDecimalField
from trainers.models import Project, Worker

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class WeekInput(forms.TextInput):
    """The browser's week picker (`<input type="week">`), whose value is an ISO week key.

    A browser without one shows a text box; the pattern then guides the typing.
    """

    input_type = "week"


class PeriodField(forms.CharField):
    """An ISO week key such as 2026-W45, picked from a calendar, with the API's words when it is not one."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 8)
        kwargs.setdefault("help_text", "A week: pick it, or type it as 2026-W45.")
        kwargs.setdefault("widget", WeekInput(attrs={"pattern": "[0-9]{4}-W[0-9]{2}", "size": 9}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Any:
        """Refuse anything that is not a real ISO week."""
        value = super().clean(value)
        if value:
            try:
                parse_period_key(value)
            except ValueError as error:
                raise forms.ValidationError(str(error)) from error
        return value


class PeriodForm(forms.Form):
    period = PeriodField()


class NoteForm(forms.Form):
    note = forms.CharField(
        max_length=MAX_NOTE_LENGTH, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class WorkerChoiceForm(forms.Form):
    """A form whose worker choices are the workers the caller may see."""

    worker = forms.ModelChoiceField(queryset=Worker.objects.none())

    def __init__(self, *args: Any, workers: QuerySet[Worker], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["worker"].queryset = workers  # type: ignore[attr-defined]
        self.fields["worker"].label_from_instance = lambda w: f"{w.full_name} ({w.currency})"  # type: ignore[attr-defined]


class AdjustmentForm(WorkerChoiceForm):
    amount = PlainDecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=-LARGEST_ADJUSTMENT,
        max_value=LARGEST_ADJUSTMENT,
        help_text="Signed: negative takes money back. In the worker's contract currency (beside their name).",
    )
    # No currency field: an adjustment is in the worker's contract currency, which is known.
    # The reason is required by the rules (the worker reads it on the timesheet and invoice).
    reason = forms.CharField(
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": REASON_NEEDED},
        help_text="Required: the worker reads it on their timesheet and invoice.",
    )


class RateForm(WorkerChoiceForm):
    project = forms.ModelChoiceField(
        queryset=Project.objects.none(), required=False, empty_label="Default (every project)"
    )
    hourly_rate = PlainDecimalField(
        max_digits=10, decimal_places=4, min_value=Decimal("0.0001"), max_value=MAX_HOURLY_RATE
    )
    currency = forms.CharField(max_length=3, help_text="The worker's contract currency.")
    effective_from = forms.DateField(widget=DATE_INPUT, help_text="A day in the worker's own time zone.")

    def __init__(self, *args: Any, projects: QuerySet[Project], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects  # type: ignore[attr-defined]


class InvoicePayForm(forms.Form):
    paid_on = forms.DateField(widget=DATE_INPUT, label="Paid on")
    payment_reference = forms.CharField(max_length=MAX_PAYMENT_REFERENCE_LENGTH, required=False)


class InvoiceVoidForm(forms.Form):
    reason = forms.CharField(
        max_length=MAX_REASON_LENGTH, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class TimesheetFilterForm(forms.Form):
    period = PeriodField(required=False)
    status = forms.ChoiceField(choices=[("", "Any"), *TimesheetStatus.choices], required=False)


class InvoiceFilterForm(WorkerChoiceForm):
    period = PeriodField(required=False)
    status = forms.ChoiceField(choices=[("", "Any"), *InvoiceStatus.choices], required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["worker"].required = False
        self.fields["worker"].empty_label = "Anyone"  # type: ignore[attr-defined]


class ReportForm(forms.Form):
    """A pay report's range and status (the report's own rules check the range)."""

    period_from = PeriodField(label="From week")
    period_to = PeriodField(label="To week")
    status = forms.ChoiceField(choices=[("", "Any"), *TimesheetStatus.choices], required=False)


class ExportForm(ReportForm):
    group_by = forms.ChoiceField(choices=[(name, name) for name in GROUP_BY], initial="worker")
    format = forms.ChoiceField(choices=[(name, name.upper()) for name in FORMATS])
