"""Hand-written SQL of the busiest path: instances as the ORM builds them, statements prepared once."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import WorkerFactory
from trainers import plain_sql
from trainers.models import User, Worker


def values(instance: object) -> list[object]:
    return [getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields]


@pytest.mark.django_db
def test_an_instance_from_a_row_equals_the_orms():
    # given a worker with decimals, an empty one and a date-time on its user
    worker = WorkerFactory(tax_rate=Decimal("0.1900"), overtime_after_hours=None)
    User.objects.filter(pk=worker.user_id).update(last_login="2026-11-02T09:00:00Z")
    # when
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {plain_sql.columns(Worker, 'w')}, {plain_sql.columns(User, 'u')}"  # noqa: S608
            " FROM trainers_worker w JOIN trainers_user u ON u.id = w.user_id WHERE w.id = %s",
            [worker.pk],
        )
        row = cursor.fetchone()
    width = plain_sql.width(Worker)
    # then: the same values, of the same types, as the ORM reads
    assert values(plain_sql.instance(Worker, row[:width])) == values(Worker.objects.get(pk=worker.pk))
    read_user, orm_user = plain_sql.instance(User, row[width:]), User.objects.get(pk=worker.user_id)
    assert values(read_user) == values(orm_user)
    assert [type(value) for value in values(read_user)] == [type(value) for value in values(orm_user)]


@pytest.mark.django_db(transaction=True)
def test_a_statement_is_prepared_once_per_connection(postgres_only):
    # given
    def run(number: int) -> int:
        with connection.cursor() as cursor:
            plain_sql.execute(cursor, "fairhour_test_plus_one", "SELECT %s::int + 1", [number])
            return int(cursor.fetchone()[0])

    connection.close()
    # when run twice, then again on a new connection
    with CaptureQueriesContext(connection) as queries:
        answers = [run(1), run(2)]
        connection.close()
        answers.append(run(3))
    # then
    assert answers == [2, 3, 4]
    assert [query["sql"].split()[0] for query in queries.captured_queries] == [
        "PREPARE",
        "EXECUTE",
        "EXECUTE",
        "PREPARE",
        "EXECUTE",
    ]
