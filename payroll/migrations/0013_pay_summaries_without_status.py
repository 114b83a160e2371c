from django.db import migrations


def price_and_sum_every_week(apps, schema_editor):
    # Timesheets exist, priced, for every week with time (0011), and the pay report sums
    # them through PaySummary. The pricing rules live once, in the pay engine and
    # timesheets_refresh: a copy frozen here would be a second implementation, so this
    # calls the services (it ran in 0012 before; where it did, it finds nothing to price
    # and only sums again). If a later migration changes the tables they write, move this
    # step to that migration, or to a command.
    from payroll.services.pay_summaries import pay_summaries_rebuild
    from payroll.services.timesheets import timesheets_price_everything

    timesheets_price_everything()
    pay_summaries_rebuild()


def forget_the_sums(apps, schema_editor):
    # Backwards: the rows cannot say which status they were summed under, and the column
    # comes back NOT NULL. Empty, they are summed again when this migration runs forwards.
    apps.get_model("payroll", "PaySummary").objects.all().delete()


class Migration(migrations.Migration):
    # A status change no longer writes the summaries: the close's and invoicing's status
    # moves of every week were their busiest write (docs/architecture.md, "Pay summaries").

    dependencies = [
        ("payroll", "0012_pay_summaries"),
    ]

    operations = [
        migrations.RemoveField(model_name="paysummary", name="status"),
        migrations.RunPython(price_and_sum_every_week, forget_the_sums),
    ]
