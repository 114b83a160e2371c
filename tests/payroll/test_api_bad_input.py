"""The bad-input catalogue of contract terms: workers/ (time zone, currency, numbers) and rates/.

Every refused request is checked three ways: the HTTP status, the field named in the
JSON error body, and that no row was written (or, for an edit, that the row is unchanged).
"""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from payroll.models import Rate
from tests.api_helpers import assert_refused, row_counts
from tests.factories import RateFactory, UserFactory
from trainers.models import Role, User, Worker

pytestmark = pytest.mark.django_db

API = "/api/v1"
HUGE_ID = 99999999999999999999999


def resolve(world: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Let a table cell name an object of the world through a callable."""
    return {key: value(world) if callable(value) else value for key, value in values.items()}


# --- workers/ ---------------------------------------------------------------------------------


@pytest.fixture
def newcomer(world) -> User:
    """A contractor sign-in without a worker profile yet."""
    return UserFactory(username="newcomer", role=Role.CONTRACTOR)


def worker_body(newcomer: User, **overrides: Any) -> dict[str, Any]:
    return {
        "user": newcomer.pk,
        "full_name": "New Comer",
        "email": "newcomer@example.com",
        "time_zone": "America/Chicago",
        "currency": "USD",
        **overrides,
    }


REFUSED_WORKERS = [
    # time zones
    pytest.param({"time_zone": "Mars/Olympus"}, "time_zone", id="time_zone-Mars-Olympus"),
    pytest.param({"time_zone": ""}, "time_zone", id="time_zone-empty"),
    pytest.param({"time_zone": "America/chicago"}, "time_zone", id="time_zone-wrong-case"),
    pytest.param({"time_zone": "EST5EDT-ish"}, "time_zone", id="time_zone-garbage"),
    pytest.param({"time_zone": "+05:30"}, "time_zone", id="time_zone-offset-not-a-zone"),
    pytest.param({"time_zone": "UTC\x00"}, "time_zone", id="time_zone-NUL"),
    pytest.param({"time_zone": "A/" + "b" * 100}, "time_zone", id="time_zone-too-long"),
    pytest.param({"time_zone": None}, "time_zone", id="time_zone-null"),
    # currencies
    pytest.param({"currency": "usd"}, "currency", id="currency-lowercase"),
    pytest.param({"currency": "XXX"}, "currency", id="currency-XXX-no-currency"),
    pytest.param({"currency": "EURO"}, "currency", id="currency-EURO"),
    pytest.param({"currency": ""}, "currency", id="currency-empty"),
    pytest.param({"currency": "U\x00D"}, "currency", id="currency-NUL"),
    # bounded numbers
    pytest.param({"tax_rate": "NaN"}, "tax_rate", id="tax_rate-NaN"),
    pytest.param({"tax_rate": "Infinity"}, "tax_rate", id="tax_rate-Infinity"),
    pytest.param({"tax_rate": "1e400"}, "tax_rate", id="tax_rate-1e400"),
    pytest.param({"tax_rate": "-0.01"}, "tax_rate", id="tax_rate-negative"),
    pytest.param({"tax_rate": "1.0001"}, "tax_rate", id="tax_rate-over-1"),
    pytest.param({"tax_rate": 10**20}, "tax_rate", id="tax_rate-10e20"),
    pytest.param({"tax_rate": "0.00001"}, "tax_rate", id="tax_rate-5-decimals"),
    pytest.param({"overtime_multiplier": "0.99"}, "overtime_multiplier", id="overtime_multiplier-below-1"),
    pytest.param({"overtime_multiplier": "10.01"}, "overtime_multiplier", id="overtime_multiplier-over-10"),
    pytest.param({"overtime_multiplier": "1e400"}, "overtime_multiplier", id="overtime_multiplier-1e400"),
    pytest.param({"overtime_after_hours": "0"}, "overtime_after_hours", id="overtime_after_hours-zero"),
    pytest.param(
        {"overtime_after_hours": "168.01"}, "overtime_after_hours", id="overtime_after_hours-over-week"
    ),
    pytest.param({"weekly_hours_cap": "-1"}, "weekly_hours_cap", id="weekly_hours_cap-negative"),
    pytest.param({"weekly_hours_cap": "NaN"}, "weekly_hours_cap", id="weekly_hours_cap-NaN"),
    # people and links
    pytest.param({"user": HUGE_ID}, "user", id="user-huge-id"),
    pytest.param({"user": "1e30"}, "user", id="user-1e30"),
    pytest.param({"user": None}, "user", id="user-null"),
    pytest.param({"user": lambda w: w.manager_a.pk}, "user", id="user-is-a-manager"),
    pytest.param({"user": lambda w: w.contractor_a.pk}, "user", id="user-already-a-worker"),
    pytest.param({"team": HUGE_ID}, "team", id="team-huge-id"),
    pytest.param({"email": "not-an-email"}, "email", id="email-invalid"),
    pytest.param({"full_name": "New\x00Comer"}, "full_name", id="full_name-NUL"),
    pytest.param({"full_name": ""}, "full_name", id="full_name-blank"),
]


@pytest.mark.parametrize(("overrides", "field"), REFUSED_WORKERS)
def test_bad_worker_is_refused_with_its_field_and_writes_nothing(
    world, client_for, newcomer, overrides, field
):
    # given
    body = worker_body(newcomer, **resolve(world, overrides))
    before = row_counts()
    # when
    response = client_for(world.admin).post(f"{API}/workers/", body, format="json")
    # then
    assert_refused(response, 400, field)
    assert row_counts() == before


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({}, id="minimal"),
        pytest.param({"time_zone": "Asia/Kolkata", "currency": "INR"}, id="Kolkata-INR"),
        pytest.param({"time_zone": "Australia/Lord_Howe", "currency": "AUD"}, id="Lord-Howe-AUD"),
        pytest.param({"time_zone": "UTC", "currency": "EUR", "tax_rate": "0.19"}, id="UTC-EUR-tax"),
        pytest.param(
            {"tax_rate": "1", "overtime_multiplier": "10", "overtime_after_hours": "168"}, id="upper-bounds"
        ),
    ],
)
def test_good_worker_is_created(world, client_for, newcomer, overrides):
    before = Worker.objects.count()
    response = client_for(world.admin).post(
        f"{API}/workers/", worker_body(newcomer, **overrides), format="json"
    )
    assert response.status_code == 201, response.json()
    assert Worker.objects.count() == before + 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"time_zone": "Mars/Olympus"}, "time_zone", id="time_zone-Mars-Olympus"),
        pytest.param({"time_zone": "America/chicago"}, "time_zone", id="time_zone-wrong-case"),
        pytest.param({"currency": "usd"}, "currency", id="currency-lowercase"),
        pytest.param({"currency": "EURO"}, "currency", id="currency-EURO"),
        pytest.param({"tax_rate": "NaN"}, "tax_rate", id="tax_rate-NaN"),
        pytest.param({"user": lambda w: w.contractor_b.pk}, "user", id="user-taken"),
    ],
)
def test_bad_worker_edit_changes_nothing(world, client_for, changes, field):
    # given
    worker = world.worker_a
    state = Worker.objects.filter(pk=worker.pk).values().get()
    # when
    response = client_for(world.admin).patch(
        f"{API}/workers/{worker.pk}/", resolve(world, changes), format="json"
    )
    # then
    assert_refused(response, 400, field)
    assert Worker.objects.filter(pk=worker.pk).values().get() == state


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        pytest.param('"tax_rate": NaN', "detail", id="tax_rate-NaN-literal"),
        pytest.param('"tax_rate": Infinity', "detail", id="tax_rate-Infinity-literal"),
        pytest.param('"tax_rate": 1e400', "detail", id="tax_rate-1e400-literal"),
        pytest.param(
            '"overtime_multiplier": -Infinity', "detail", id="overtime_multiplier-minus-Infinity-literal"
        ),
    ],
)
def test_non_finite_json_numbers_in_a_worker_are_a_400(world, client_for, newcomer, raw, field):
    body = (
        f'{{"user": {newcomer.pk}, "full_name": "New Comer", "email": "newcomer@example.com", '
        f'"time_zone": "America/Chicago", "currency": "USD", {raw}}}'
    )
    before = row_counts()
    response = client_for(world.admin).post(f"{API}/workers/", body, content_type="application/json")
    assert_refused(response, 400, field)
    assert row_counts() == before


# --- rates/ -----------------------------------------------------------------------------------


def rate_body(world: Any, **overrides: Any) -> dict[str, Any]:
    """A valid default (project-less) rate for worker A, with `overrides` applied."""
    return {
        "worker": world.worker_a.pk,
        "project": None,
        "hourly_rate": "15.00",
        "currency": "USD",
        "effective_from": "2026-01-01",
        **resolve(world, overrides),
    }


REFUSED_RATES = [
    # hourly_rate
    pytest.param({"hourly_rate": "NaN"}, "hourly_rate", id="hourly_rate-NaN"),
    pytest.param({"hourly_rate": "Infinity"}, "hourly_rate", id="hourly_rate-Infinity"),
    pytest.param({"hourly_rate": "-Infinity"}, "hourly_rate", id="hourly_rate-minus-Infinity"),
    pytest.param({"hourly_rate": "1e400"}, "hourly_rate", id="hourly_rate-1e400"),
    pytest.param({"hourly_rate": "1e-400"}, "hourly_rate", id="hourly_rate-1e-400"),
    pytest.param({"hourly_rate": "-5"}, "hourly_rate", id="hourly_rate-negative"),
    pytest.param({"hourly_rate": "0.00001"}, "hourly_rate", id="hourly_rate-5-decimals"),
    pytest.param({"hourly_rate": 10**20}, "hourly_rate", id="hourly_rate-10e20"),
    pytest.param({"hourly_rate": "100000.0001"}, "hourly_rate", id="hourly_rate-over-max"),
    pytest.param({"hourly_rate": "1" * 1001}, "hourly_rate", id="hourly_rate-1001-digits"),
    pytest.param({"hourly_rate": "abc"}, "hourly_rate", id="hourly_rate-abc"),
    pytest.param({"hourly_rate": ""}, "hourly_rate", id="hourly_rate-empty"),
    pytest.param({"hourly_rate": None}, "hourly_rate", id="hourly_rate-null"),
    # currency
    pytest.param({"currency": "EUR"}, "currency", id="currency-not-the-workers"),
    pytest.param({"currency": "usd"}, "currency", id="currency-lowercase"),
    pytest.param({"currency": "XXX"}, "currency", id="currency-XXX"),
    pytest.param({"currency": "EURO"}, "currency", id="currency-EURO"),
    # links and dates
    pytest.param({"worker": HUGE_ID}, "worker", id="worker-huge-id"),
    pytest.param({"worker": "1e30"}, "worker", id="worker-1e30"),
    pytest.param({"worker": None}, "worker", id="worker-null"),
    pytest.param({"project": lambda w: w.project_b.pk}, "project", id="project-not-assigned"),
    pytest.param({"project": HUGE_ID}, "project", id="project-huge-id"),
    pytest.param({"effective_from": "2026-02-30"}, "effective_from", id="effective_from-impossible-day"),
    pytest.param({"effective_from": "2026-01-01T00:00:00Z"}, "effective_from", id="effective_from-datetime"),
    pytest.param({"effective_from": "not-a-date"}, "effective_from", id="effective_from-garbage"),
    pytest.param({"effective_from": "2026-01-01\x00"}, "effective_from", id="effective_from-NUL"),
    pytest.param({"effective_from": "0001-01-01"}, "effective_from", id="effective_from-year-1"),
    pytest.param({"hourly_rate": "1_5"}, "hourly_rate", id="hourly_rate-underscore"),
    pytest.param({"hourly_rate": "\u0661\u0662"}, "hourly_rate", id="hourly_rate-arabic-indic-digits"),
    pytest.param({"effective_from": "1999-12-31"}, "effective_from", id="effective_from-before-2000"),
    pytest.param({"effective_from": "9999-12-31"}, "effective_from", id="effective_from-year-9999"),
]


@pytest.mark.parametrize(("overrides", "field"), REFUSED_RATES)
def test_bad_rate_is_refused_with_its_field_and_writes_nothing(world, client_for, overrides, field):
    # given
    body = rate_body(world, **overrides)
    before = row_counts()
    # when
    response = client_for(world.finance).post(f"{API}/rates/", body, format="json")
    # then
    assert_refused(response, 400, field)
    assert row_counts() == before


def test_a_second_rate_on_the_same_day_and_scope_is_refused(world, client_for):
    RateFactory(worker=world.worker_a, effective_from=date(2026, 1, 1))
    before = row_counts()
    response = client_for(world.finance).post(f"{API}/rates/", rate_body(world), format="json")
    assert_refused(response, 400, "effective_from")
    assert row_counts() == before


@pytest.mark.parametrize(
    ("hourly_rate", "shown"),
    [
        pytest.param("0.0001", "0.0001", id="smallest"),
        pytest.param("100000", "100000.00", id="largest"),
        pytest.param("20.8625", "20.8625", id="four-decimals-kept"),
        pytest.param(15, "15.00", id="json-integer"),
    ],
)
def test_good_rate_is_created(world, client_for, hourly_rate, shown):
    response = client_for(world.finance).post(
        f"{API}/rates/", rate_body(world, hourly_rate=hourly_rate), format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["hourly_rate"] == shown


def test_a_default_rate_may_leave_project_out(world, client_for):
    """API.md: `project` is nullable; leaving it out means the worker's default rate."""
    body = rate_body(world)
    del body["project"]
    response = client_for(world.finance).post(f"{API}/rates/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["project"] is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"currency": "EUR"}, "currency", id="currency-not-the-workers"),
        pytest.param({"hourly_rate": "-0.01"}, "hourly_rate", id="hourly_rate-negative"),
        pytest.param({"hourly_rate": "NaN"}, "hourly_rate", id="hourly_rate-NaN"),
        pytest.param({"worker": lambda w: w.worker_b.pk}, "worker", id="worker-changed"),
    ],
)
def test_bad_rate_edit_changes_nothing(world, client_for, changes, field):
    # given
    rate = RateFactory(worker=world.worker_a)
    state = Rate.objects.filter(pk=rate.pk).values().get()
    # when
    response = client_for(world.finance).patch(
        f"{API}/rates/{rate.pk}/", resolve(world, changes), format="json"
    )
    # then
    assert_refused(response, 400, field)
    assert Rate.objects.filter(pk=rate.pk).values().get() == state
    assert rate.hourly_rate == Decimal("15.00")


@pytest.mark.parametrize(
    ("literal", "field"),
    [
        pytest.param("NaN", "detail", id="NaN-literal"),
        pytest.param("Infinity", "detail", id="Infinity-literal"),
        pytest.param("1e400", "detail", id="1e400-literal-beyond-a-float"),
        pytest.param("1" + "0" * 5000, "detail", id="5000-digit-literal"),
    ],
)
def test_non_finite_json_numbers_in_a_rate_are_a_400(world, client_for, literal, field):
    body = (
        f'{{"worker": {world.worker_a.pk}, "project": null, "hourly_rate": {literal}, '
        '"currency": "USD", "effective_from": "2026-01-01"}'
    )
    before = row_counts()
    response = client_for(world.finance).post(f"{API}/rates/", body, content_type="application/json")
    assert_refused(response, 400, field)
    assert row_counts() == before
