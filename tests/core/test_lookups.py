"""The `any_of` lookup: a long id list as one parameter, the same rows as `__in`."""

from decimal import Decimal

import pytest
from django.db import connection

from core.db.lookups import decimal_array, int_array
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


def test_any_of_sends_one_array_parameter(world):
    # given thousands of ids
    ids = list(range(1, 5_001))

    # when
    sql, params = Worker.objects.filter(pk__any_of=ids).query.sql_with_params()

    # then one parameter (no placeholder per id)
    assert sql.endswith('"id" = ANY(%s::bigint[])') and params == (int_array(ids),)


def test_arrays_in_text_form():
    assert int_array([]) == "{}"
    assert int_array([3, 40_000, 2**40]) == "{3,40000,1099511627776}"
    assert decimal_array([Decimal("15.00"), Decimal("-0.10"), Decimal("1E+2")]) == "{15.00,-0.10,1E+2}"


def test_arrays_in_text_form_take_only_what_they_say():
    for bad in ([1.5], ["1"], [None]):
        with pytest.raises(TypeError):
            int_array(bad)
    for bad in ([1], [Decimal("NaN")], [None], ["1.00"]):
        with pytest.raises(TypeError):
            decimal_array(bad)


def test_arrays_in_text_form_read_back_exactly(db):
    # given ints past smallint and integer, and decimals with their scale
    ints = [1, 40_000, 2**40]
    decimals = [Decimal("15.00"), Decimal("-0.10"), Decimal("1E+2"), Decimal("123456789012.3456")]

    # when PostgreSQL reads them back
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::bigint[], %s::numeric[]", [int_array(ints), decimal_array(decimals)])
        read_ints, read_decimals = cursor.fetchone()

    # then nothing is lost, not even a decimal's scale
    assert read_ints == ints
    assert read_decimals == decimals
    assert [str(value) for value in read_decimals[:2]] == ["15.00", "-0.10"]
