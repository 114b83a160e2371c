# Drops indexes that another index already covers, so bulk writes maintain fewer of them:
# - the indexes of six foreign keys: another index leads with the same column
#   (Timesheet.worker: timesheet_one_per_worker_period; TimesheetLine.timesheet:
#   timesheet_line_unique_group; InvoiceLine.invoice: invoice_line_unique_position;
#   Adjustment.worker: adjustment_worker_period; JobChunk.job: job_chunk_unique_index;
#   ReminderSent.timesheet: reminder_once_per_stage);
# - Invoice.number's LIKE (varchar_pattern_ops) index, made by `unique=True`: nothing
#   searches numbers by prefix. The number stays unique, now as `invoice_unique_number`.
#
# Written by hand. The AlterFields that makemigrations writes drop and re-add each foreign
# key (checking every row again), drop every index on the column alone, and rebuild the
# number's unique index, each holding its table locked. Here the state changes as those
# operations say, and the database only renames the number's unique constraint (no
# rebuild) and drops the covered indexes CONCURRENTLY (so the migration is not atomic, and
# each step can be run again). The indexes are found by their table, column and kind, not
# by name (trainers.schema_changes).

import django.db.models.deletion
from django.db import migrations, models

from trainers.schema_changes import constraints_of, create_plain_index, drop_plain_indexes

# (table, column, index Django gave it) of the foreign keys that lose their own index.
FOREIGN_KEY_INDEXES = [
    ("payroll_timesheet", "worker_id", "payroll_timesheet_worker_id_06bd6d8a"),
    ("payroll_timesheetline", "timesheet_id", "payroll_timesheetline_timesheet_id_8bdd0b00"),
    ("payroll_invoiceline", "invoice_id", "payroll_invoiceline_invoice_id_cd89584c"),
    ("payroll_adjustment", "worker_id", "payroll_adjustment_worker_id_de2c46d8"),
    ("payroll_jobchunk", "job_id", "payroll_jobchunk_job_id_ea2ce0d5"),
    ("payroll_remindersent", "timesheet_id", "payroll_remindersent_timesheet_id_ffcf8570"),
]
NUMBER_CONSTRAINT = "invoice_unique_number"
NUMBER_LIKE_INDEX = "payroll_invoice_number_768b622e_like"


def drop_covered_indexes(apps, schema_editor):
    for table, column, _ in FOREIGN_KEY_INDEXES:
        drop_plain_indexes(schema_editor, table, column)


def create_covered_indexes(apps, schema_editor):
    for table, column, name in FOREIGN_KEY_INDEXES:
        create_plain_index(schema_editor, table, column, name)


def number_unique_by_constraint(apps, schema_editor):
    constraints = constraints_of(schema_editor, "payroll_invoice")
    if NUMBER_CONSTRAINT not in constraints:
        (old,) = [
            name for name, info in constraints.items()
            if info["unique"] and not info["primary_key"] and info["columns"] == ["number"]
        ]
        schema_editor.execute(f'ALTER TABLE "payroll_invoice" RENAME CONSTRAINT "{old}" TO "{NUMBER_CONSTRAINT}"')
    drop_plain_indexes(schema_editor, "payroll_invoice", "number")


def number_unique_by_field(apps, schema_editor):
    create_plain_index(schema_editor, "payroll_invoice", "number", NUMBER_LIKE_INDEX, "varchar_pattern_ops")
    if NUMBER_CONSTRAINT in constraints_of(schema_editor, "payroll_invoice"):
        schema_editor.execute(
            f'ALTER TABLE "payroll_invoice" RENAME CONSTRAINT "{NUMBER_CONSTRAINT}" TO "payroll_invoice_number_key"'
        )


class Migration(migrations.Migration):

    atomic = False  # DROP / CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ('payroll', '0006_rate_days_invoice_not_negative'),
        ('trainers', '0003_redundant_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='invoice',
                    name='number',
                    field=models.CharField(max_length=40),
                ),
                migrations.AddConstraint(
                    model_name='invoice',
                    constraint=models.UniqueConstraint(fields=('number',), name='invoice_unique_number'),
                ),
            ],
            database_operations=[
                migrations.RunPython(number_unique_by_constraint, number_unique_by_field, atomic=False),
            ],
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
                migrations.RunPython(drop_covered_indexes, create_covered_indexes, atomic=False),
            ],
        ),
    ]
