from django.urls import path
from rest_framework.routers import SimpleRouter

from payroll import api

router = SimpleRouter(trailing_slash=True)
router.register("rates", api.RateViewSet, basename="rate")
router.register("timesheets", api.TimesheetViewSet, basename="timesheet")
router.register("adjustments", api.AdjustmentViewSet, basename="adjustment")
router.register("jobs", api.JobViewSet, basename="job")
router.register("invoices", api.InvoiceViewSet, basename="invoice")

urlpatterns = [
    path("payroll/close/", api.PayrollCloseView.as_view(), name="payroll-close"),
    path("payroll/invoice/", api.PayrollInvoiceView.as_view(), name="payroll-invoice"),
    *router.urls,
]
