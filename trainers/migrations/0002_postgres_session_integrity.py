"""Integrity of sessions in PostgreSQL's own SQL, which Django's model constraints cannot say.

- session_no_overlap: no two sessions of one worker overlap (half-open ranges, so
  touching is fine; a running session counts as open-ended). Two concurrent inserts
  can never both land, whatever the application checked first.
- session_whole_seconds: instants are kept to the whole second (PAY_RULES §1).
- session_length_ceiling: no session longer than 24 h (MAX_SESSION_HOURS may be lower;
  the services enforce the configured value).
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

CONSTRAINTS = [
    (
        "session_no_overlap",
        "EXCLUDE USING gist (worker_id WITH =, "
        "tstzrange(started_at, COALESCE(ended_at, 'infinity'::timestamptz), '[)') WITH &&)",
    ),
    (
        "session_whole_seconds",
        "CHECK (date_trunc('second', started_at) = started_at "
        "AND (ended_at IS NULL OR date_trunc('second', ended_at) = ended_at))",
    ),
    (
        "session_length_ceiling",
        "CHECK (ended_at IS NULL OR ended_at - started_at <= interval '24 hours')",
    ),
]
TABLE = "trainers_labellingsession"


def add_constraints(apps, schema_editor):
    for name, definition in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")


def drop_constraints(apps, schema_editor):
    for name, _ in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("trainers", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(add_constraints, drop_constraints),
    ]
