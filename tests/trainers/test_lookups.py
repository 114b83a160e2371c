"""The `any_of` lookup: a long id list as one parameter, the same rows as `__in`."""

from django.db import connection

from trainers.models import LabellingSession, Worker


def test_any_of_finds_the_same_rows_as_in(world):
    # given three workers, two of them asked for (and an id that does not exist)
    ids = [world.worker_a.pk, world.worker_b.pk, 10**9]

    # when
    found = set(Worker.objects.filter(pk__any_of=ids).values_list("pk", flat=True))

    # then
    assert found == set(Worker.objects.filter(pk__in=ids).values_list("pk", flat=True))
    assert found == {world.worker_a.pk, world.worker_b.pk}


def test_any_of_works_on_a_foreign_key(world):
    # when
    sessions = LabellingSession.objects.filter(worker_id__any_of=[world.worker_b.pk])

    # then
    assert list(sessions) == [world.session_b]


def test_any_of_an_empty_list_finds_nothing(world):
    assert list(Worker.objects.filter(pk__any_of=[])) == []


def test_any_of_sends_one_array_parameter_on_postgresql(world):
    # given thousands of ids
    ids = list(range(1, 5_001))

    # when
    sql, params = Worker.objects.filter(pk__any_of=ids).query.sql_with_params()

    # then one parameter on PostgreSQL (no placeholder per id); IN elsewhere
    if connection.vendor == "postgresql":
        assert sql.endswith('"id" = ANY(%s)') and params == (ids,)
    else:
        assert " IN (" in sql and len(params) == len(ids)
