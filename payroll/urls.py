from django.urls import path
from rest_framework.routers import SimpleRouter

from payroll import api, api_reports

router = SimpleRouter(trailing_slash=True)
router.register("rates", api.RateViewSet, basename="rate")
router.register("timesheets", api.TimesheetViewSet, basename="timesheet")
router.register("adjustments", api.AdjustmentViewSet, basename="adjustment")
router.register("jobs", api.JobViewSet, basename="job")
router.register("invoices", api.InvoiceViewSet, basename="invoice")

urlpatterns = [
    path("payroll/close/", api.PayrollCloseView.as_view(), name="payroll-close"),
    path("payroll/invoice/", api.PayrollInvoiceView.as_view(), name="payroll-invoice"),
    path("reports/pay/", api_reports.PayReportView.as_view(), name="report-pay"),
    path("exports/", api_reports.ExportView.as_view(), name="export-list"),
    path("exports/<int:job_id>/download/", api_reports.ExportDownloadView.as_view(), name="export-download"),
    *router.urls,
]
