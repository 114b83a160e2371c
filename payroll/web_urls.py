"""Routes of the pay web pages (at the site root; the API is under /api/v1/)."""

from django.urls import path, re_path

from payroll.views.finance import job_progress, period_overview, start_job
from payroll.views.invoices import invoice_action, invoice_detail, invoice_list
from payroll.views.rates import rate_delete, rate_form, rate_list
from payroll.views.reports import export_report, pay_reports
from payroll.views.timesheets import (
    adjustments,
    approvals,
    approve_many,
    current_figures,
    timesheet_action,
    timesheet_detail,
    timesheet_list,
)

app_name = "payroll"

urlpatterns = [
    path("timesheets/", timesheet_list, name="timesheets"),
    path("timesheets/current/figures/", current_figures, name="current-figures"),
    path("timesheets/<int:pk>/", timesheet_detail, name="timesheet"),
    # Only the transitions a person starts; "invoice" belongs to the invoicing service.
    re_path(
        r"^timesheets/(?P<pk>[0-9]{1,18})/(?P<action>submit|approve|reject|reopen)/$",
        timesheet_action,
        name="timesheet-action",
    ),
    path("approvals/", approvals, name="approvals"),
    path("approvals/approve/", approve_many, name="approve-many"),
    path("adjustments/", adjustments, name="adjustments"),
    path("finance/", period_overview, name="overview"),
    re_path(r"^finance/(?P<kind>close_period|issue_invoices)/start/$", start_job, name="start-job"),
    path("jobs/<int:pk>/", job_progress, name="job"),
    path("invoices/", invoice_list, name="invoices"),
    path("invoices/<int:pk>/", invoice_detail, name="invoice"),
    re_path(r"^invoices/(?P<pk>[0-9]{1,18})/(?P<action>pay|void)/$", invoice_action, name="invoice-action"),
    path("reports/", pay_reports, name="reports"),
    path("reports/export/", export_report, name="export"),
    path("rates/", rate_list, name="rates"),
    path("rates/new/", rate_form, name="rate-new"),
    path("rates/<int:pk>/", rate_form, name="rate-edit"),
    path("rates/<int:pk>/delete/", rate_delete, name="rate-delete"),
]
