# Numbers each timesheet's events 1, 2, 3... in a new `sequence` column, unique per
# timesheet, and lists them by it: the history in the order its steps committed.
#
# Existing events are numbered in id order. An event's id was taken by its INSERT, under
# the timesheet's row lock, so within one timesheet ids follow the commit order; its `at`
# was taken before that lock was held (the bug this fixes), so ordering by `at` would keep
# an "approved -> open" before the "submitted -> approved" it followed. One UPDATE with
# row_number() numbers the whole table; `at` is left as recorded (history is not rewritten).
#
# Written by hand, one transaction: the column is added nullable, numbered, then made NOT
# NULL and unique. The unique (timesheet, sequence) index covers the foreign key's own
# index, which is dropped (found by table, column and kind, trainers.schema_changes). Not
# CONCURRENTLY, unlike payroll 0007: the table is locked by the ALTERs of this migration
# anyway, and a failure leaves nothing half done.

import django.db.models.deletion
from django.db import migrations, models

from trainers.schema_changes import plain_indexes_on

TABLE = "payroll_timesheetevent"
FOREIGN_KEY_INDEX = "payroll_timesheetevent_timesheet_id_94964cdd"

NUMBER_EVENTS = """
UPDATE payroll_timesheetevent AS e SET sequence = numbered.sequence
FROM (
    SELECT id, row_number() OVER (PARTITION BY timesheet_id ORDER BY id) AS sequence
    FROM payroll_timesheetevent
) AS numbered
WHERE e.id = numbered.id
"""


def drop_covered_index(apps, schema_editor):
    for name in plain_indexes_on(schema_editor, TABLE, "timesheet_id"):
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def create_covered_index(apps, schema_editor):
    schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{FOREIGN_KEY_INDEX}" ON "{TABLE}" ("timesheet_id")')


class Migration(migrations.Migration):

    dependencies = [
        ('payroll', '0008_issued_invoices_never_change'),
    ]

    operations = [
        migrations.AddField(
            model_name='timesheetevent',
            name='sequence',
            field=models.IntegerField(null=True),
        ),
        migrations.RunSQL(NUMBER_EVENTS, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name='timesheetevent',
            name='sequence',
            field=models.IntegerField(help_text="The event's place in its timesheet's history: 1, 2, 3..."),
        ),
        migrations.AddConstraint(
            model_name='timesheetevent',
            constraint=models.UniqueConstraint(fields=('timesheet', 'sequence'), name='timesheet_event_unique_sequence'),
        ),
        migrations.AddConstraint(
            model_name='timesheetevent',
            constraint=models.CheckConstraint(condition=models.Q(('sequence__gte', 1)), name='timesheet_event_sequence_positive'),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='timesheetevent',
                    name='timesheet',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='payroll.timesheet'),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_covered_index, create_covered_index),
            ],
        ),
        migrations.AlterField(
            model_name='timesheetevent',
            name='at',
            field=models.DateTimeField(help_text="When the step was taken; never before the previous event's."),
        ),
        migrations.AlterModelOptions(
            name='timesheetevent',
            options={'ordering': ['timesheet_id', 'sequence']},
        ),
    ]
