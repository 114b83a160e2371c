# Drops the index of LabellingSession.worker: `session_worker_start` (worker_id, started_at)
# leads with the same column and serves every lookup by worker.
#
# Written by hand. The AlterField that makemigrations writes drops every index on the
# column alone, and so also drops the partial unique index `session_one_running_per_worker`
# (one running timer per worker); it also drops and re-adds the foreign key, which checks
# every row again. Here the state changes as AlterField says, and the database loses only
# the plain index, found by table, column and kind (trainers.schema_changes); on
# PostgreSQL it is dropped CONCURRENTLY (sessions are the biggest table and the API writes
# them all day), so the migration is not atomic.

import django.db.models.deletion
from django.db import migrations, models

from trainers.schema_changes import create_plain_index, drop_plain_indexes

TABLE, COLUMN, INDEX = "trainers_labellingsession", "worker_id", "trainers_labellingsession_worker_id_7e68481c"


def drop_worker_index(apps, schema_editor):
    drop_plain_indexes(schema_editor, TABLE, COLUMN)


def create_worker_index(apps, schema_editor):
    create_plain_index(schema_editor, TABLE, COLUMN, INDEX)


class Migration(migrations.Migration):

    atomic = False  # DROP / CREATE INDEX CONCURRENTLY cannot run inside a transaction

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
                migrations.RunPython(drop_worker_index, create_worker_index, atomic=False),
            ],
        ),
    ]
