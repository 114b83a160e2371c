"""The database schema, as PostgreSQL holds it after the migrations."""

import pytest
from django.apps import apps
from django.db import connection

# Plain btree indexes whose key columns (and operator classes) lead another btree index on
# the same table: every lookup they serve, the longer index serves too, and each insert
# pays for both.
REDUNDANT_INDEXES_SQL = """
SELECT a.indexrelid::regclass::text, b.indexrelid::regclass::text
FROM pg_index a
JOIN pg_index b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
JOIN pg_class ia ON ia.oid = a.indexrelid
JOIN pg_class ib ON ib.oid = b.indexrelid AND ib.relam = ia.relam
JOIN pg_am am ON am.oid = ia.relam AND am.amname = 'btree'
WHERE a.indrelid = ANY(%s::regclass[])
  AND NOT a.indisunique AND a.indpred IS NULL AND b.indpred IS NULL
  AND a.indexprs IS NULL AND b.indexprs IS NULL
  AND a.indnkeyatts <= b.indnkeyatts
  AND (a.indkey::int2[])[0:a.indnkeyatts - 1] = (b.indkey::int2[])[0:a.indnkeyatts - 1]
  AND (a.indclass::oid[])[0:a.indnkeyatts - 1] = (b.indclass::oid[])[0:a.indnkeyatts - 1]
ORDER BY 1
"""


def _our_tables() -> list[str]:
    """Tables of Fairhour's own models (not the many-to-many tables Django makes)."""
    return [
        model._meta.db_table
        for app in ("trainers", "payroll")
        for model in apps.get_app_config(app).get_models()
        if not model._meta.auto_created
    ]


@pytest.mark.django_db
def test_no_index_is_covered_by_another():
    """A foreign key whose column leads a composite index needs no index of its own.

    Django gives every foreign key an index; where a unique constraint or an index starts
    with the same column, the model says `db_index=False` (the bulk close and invoicing
    write hundreds of thousands of rows into these tables).
    """
    with connection.cursor() as cursor:
        cursor.execute(REDUNDANT_INDEXES_SQL, [_our_tables()])
        redundant = cursor.fetchall()
    assert redundant == []


@pytest.mark.django_db
def test_the_check_sees_a_covered_index():
    """The query above finds a covered index when there is one (it can fail)."""
    with connection.cursor() as cursor:
        cursor.execute('CREATE INDEX "covered_for_test" ON "payroll_timesheet" ("worker_id")')
        cursor.execute(REDUNDANT_INDEXES_SQL, [_our_tables()])
        redundant = cursor.fetchall()
    assert redundant == [("covered_for_test", "timesheet_one_per_worker_period")]


@pytest.mark.django_db
def test_the_partial_unique_index_of_running_timers_is_kept():
    """Dropping the sessions' worker index left `session_one_running_per_worker` alone."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'session_one_running_per_worker'")
        (definition,) = cursor.fetchone()
    assert "UNIQUE" in definition
    assert "WHERE (ended_at IS NULL)" in definition
