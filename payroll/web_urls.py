"""Routes of the pay web pages (at the site root; the API is under /api/v1/)."""

from django.urls import path, re_path

from payroll import views

app_name = "payroll"

urlpatterns = [
    path("timesheets/", views.timesheet_list, name="timesheets"),
    path("timesheets/current/figures/", views.current_figures, name="current-figures"),
    path("timesheets/<int:pk>/", views.timesheet_detail, name="timesheet"),
    # Only the transitions a person starts; "invoice" belongs to the invoicing service.
    re_path(
        r"^timesheets/(?P<pk>[0-9]{1,18})/(?P<action>submit|approve|reject|reopen)/$",
        views.timesheet_action,
        name="timesheet-action",
    ),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/approve/", views.approve_many, name="approve-many"),
    path("adjustments/", views.adjustments, name="adjustments"),
    path("finance/", views.period_overview, name="overview"),
    re_path(r"^finance/(?P<kind>close_period|issue_invoices)/start/$", views.start_job, name="start-job"),
    path("jobs/<int:pk>/", views.job_progress, name="job"),
    path("invoices/", views.invoice_list, name="invoices"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice"),
    re_path(
        r"^invoices/(?P<pk>[0-9]{1,18})/(?P<action>pay|void)/$", views.invoice_action, name="invoice-action"
    ),
    path("reports/", views.pay_reports, name="reports"),
    path("reports/export/", views.export_report, name="export"),
    path("rates/", views.rate_list, name="rates"),
    path("rates/new/", views.rate_form, name="rate-new"),
    path("rates/<int:pk>/", views.rate_form, name="rate-edit"),
    path("rates/<int:pk>/delete/", views.rate_delete, name="rate-delete"),
]
