# Drops indexes that another index already covers, so bulk writes maintain fewer of them:
# - the indexes of six foreign keys: another index leads with the same column
#   (Timesheet.worker: timesheet_one_per_worker_period; TimesheetLine.timesheet:
#   timesheet_line_unique_group; InvoiceLine.invoice: invoice_line_unique_position;
#   Adjustment.worker: adjustment_worker_period; JobChunk.job: job_chunk_unique_index;
#   ReminderSent.timesheet: reminder_once_per_stage);
# - Invoice.number's LIKE (varchar_pattern_ops) index, made by `unique=True`: nothing
#   searches numbers by prefix. The number stays unique, now as `invoice_unique_number`.
#
# The foreign keys are written by hand: the AlterField that makemigrations writes
# drops and re-adds each foreign key (checking every row again) and drops every index on
# the column alone. Here the state changes as AlterField says, and the database loses only
# the named indexes.

import django.db.models.deletion
from django.db import migrations, models

# (table, column, index) of the foreign keys that lose their own index.
FOREIGN_KEY_INDEXES = [
    ("payroll_timesheet", "worker_id", "payroll_timesheet_worker_id_06bd6d8a"),
    ("payroll_timesheetline", "timesheet_id", "payroll_timesheetline_timesheet_id_8bdd0b00"),
    ("payroll_invoiceline", "invoice_id", "payroll_invoiceline_invoice_id_cd89584c"),
    ("payroll_adjustment", "worker_id", "payroll_adjustment_worker_id_de2c46d8"),
    ("payroll_jobchunk", "job_id", "payroll_jobchunk_job_id_ea2ce0d5"),
    ("payroll_remindersent", "timesheet_id", "payroll_remindersent_timesheet_id_ffcf8570"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('payroll', '0006_rate_days_invoice_not_negative'),
        ('trainers', '0003_redundant_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='invoice',
            name='number',
            field=models.CharField(max_length=40),
        ),
        migrations.AddConstraint(
            model_name='invoice',
            constraint=models.UniqueConstraint(fields=('number',), name='invoice_unique_number'),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='invoiceline',
                    name='invoice',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='lines', to='payroll.invoice'),
                ),
                migrations.AlterField(
                    model_name='timesheet',
                    name='worker',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='timesheets', to='trainers.worker'),
                ),
                migrations.AlterField(
                    model_name='adjustment',
                    name='worker',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='adjustments', to='trainers.worker'),
                ),
                migrations.AlterField(
                    model_name='jobchunk',
                    name='job',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='chunks', to='payroll.job'),
                ),
                migrations.AlterField(
                    model_name='remindersent',
                    name='timesheet',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='reminders', to='payroll.timesheet'),
                ),
                migrations.AlterField(
                    model_name='timesheetline',
                    name='timesheet',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='payroll.timesheet'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{column}")',
                )
                for table, column, index in FOREIGN_KEY_INDEXES
            ],
        ),
    ]
