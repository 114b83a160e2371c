# Drops the index of LabellingSession.worker: `session_worker_start` (worker_id, started_at)
# leads with the same column and serves every lookup by worker.
#
# Written by hand. The AlterField that makemigrations writes drops every index on the
# column alone, and so also drops the partial unique index `session_one_running_per_worker`
# (one running timer per worker); it also drops and re-adds the foreign key, which checks
# every row again. Here the state changes as AlterField says, and the database loses only
# the plain index, found by table, column and kind; on PostgreSQL it is dropped
# CONCURRENTLY (sessions are the biggest table and the API writes them all day), so the
# migration is not atomic.

import django.db.models.deletion
from django.db import migrations, models

TABLE, COLUMN, INDEX = "trainers_labellingsession", "worker_id", "trainers_labellingsession_worker_id_7e68481c"


def _concurrently(schema_editor):
    return " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""


def drop_worker_index(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, TABLE)
    for name, info in constraints.items():
        plain = info["index"] and not info["unique"] and not info["primary_key"]
        if plain and info["columns"] == [COLUMN] and info.get("type") in ("btree", "idx"):
            schema_editor.execute(f'DROP INDEX{_concurrently(schema_editor)} IF EXISTS "{name}"')


def create_worker_index(apps, schema_editor):
    schema_editor.execute(
        f'CREATE INDEX{_concurrently(schema_editor)} IF NOT EXISTS "{INDEX}" ON "{TABLE}" ("{COLUMN}")'
    )


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
