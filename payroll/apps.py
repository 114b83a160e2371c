from django.apps import AppConfig


class PayrollConfig(AppConfig):
    """Money: rates now; pay engine, timesheets, invoices and jobs next."""

    name = "payroll"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Tell trainers which contract changes payroll forbids."""
        from payroll.services.rates import currency_change_refusal_for_rates
        from trainers.hooks import register_currency_change_check

        register_currency_change_check(currency_change_refusal_for_rates)
