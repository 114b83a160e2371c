from django.apps import AppConfig


class PayrollConfig(AppConfig):
    """Money: rates now; pay engine, timesheets, invoices and jobs next."""

    name = "payroll"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Tell trainers what timesheets lock and refuse, and which writes price them again."""
        from payroll.selectors.rates import currency_change_refusal_for_rates
        from payroll.selectors.timesheet_locks import (
            currency_change_refusal_for_pay,
            timesheet_lock_reason,
            zone_change_refusal_for_timesheets,
        )
        from payroll.services.timesheets import (
            pay_summaries_follow_team,
            timesheets_follow_terms_change,
            timesheets_follow_time,
        )
        from trainers.hooks import (
            register_contract_change_check,
            register_period_lock,
            register_time_changed,
            register_worker_changed,
        )

        register_contract_change_check("currency", currency_change_refusal_for_rates)
        register_contract_change_check("currency", currency_change_refusal_for_pay)
        register_contract_change_check("time_zone", zone_change_refusal_for_timesheets)
        register_worker_changed(timesheets_follow_terms_change)
        register_worker_changed(pay_summaries_follow_team)
        register_time_changed(timesheets_follow_time)
        register_period_lock(timesheet_lock_reason)
