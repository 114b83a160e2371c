# Drops the index of LabellingSession.worker: `session_worker_start` (worker_id, started_at)
# leads with the same column and serves every lookup by worker.
#
# Written by hand. The AlterField that makemigrations writes drops every index on the
# column alone, and so also drops the partial unique index `session_one_running_per_worker`
# (one running timer per worker); it also drops and re-adds the foreign key, which checks
# every row again. Here the state changes as AlterField says, and the database loses only
# the one index, by name.

import django.db.models.deletion
from django.db import migrations, models

INDEX = "trainers_labellingsession_worker_id_7e68481c"


class Migration(migrations.Migration):

    dependencies = [
        ('trainers', '0002_postgres_session_integrity'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='labellingsession',
                    name='worker',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='sessions', to='trainers.worker'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "trainers_labellingsession" ("worker_id")',
                ),
            ],
        ),
    ]
