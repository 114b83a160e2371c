"""Who may do what to which rate: rates/ cell by cell.

Rates are pay data: finance and admins read and write all of them, a contractor reads
only their own, managers none at all (403, since the role may never read rates). A
contractor asking for another worker's rate gets 404, as if it did not exist.
"""

from decimal import Decimal

import pytest

from payroll.models import Rate
from tests.factories import RateFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"
RATE_NAMES = ("rate_a", "rate_a2", "rate_b")


@pytest.fixture
def rates(world) -> dict[str, Rate]:
    """rate_a, rate_a2 and rate_b: a default 15.00 USD rate from 2026-01-01 for each worker."""
    return {name: RateFactory(worker=getattr(world, f"worker_{name[5:]}")) for name in RATE_NAMES}


def send(client, method: str, path: str, body: dict | None = None):
    """Send one request; bodies go as JSON."""
    if method == "GET":
        return client.get(path)
    return getattr(client, method.lower())(path, body or {}, format="json")


@pytest.mark.parametrize(
    ("caller", "expected", "visible"),
    [
        ("anonymous", 401, None),
        ("contractor_a", 200, ["rate_a"]),
        ("contractor_a2", 200, ["rate_a2"]),
        ("contractor_b", 200, ["rate_b"]),
        ("manager_a", 403, None),
        ("manager_b", 403, None),
        ("finance", 200, ["rate_a", "rate_a2", "rate_b"]),
        ("admin", 200, ["rate_a", "rate_a2", "rate_b"]),
    ],
)
def test_rates_list(world, rates, client_for, caller, expected, visible):
    # when
    response = client_for(world.user(caller)).get(f"{API}/rates/")
    # then
    assert response.status_code == expected
    if visible is not None:
        assert sorted(row["id"] for row in response.data["results"]) == sorted(rates[n].pk for n in visible)


@pytest.mark.parametrize(
    ("caller", "query"),
    [
        ("contractor_a", "worker={worker_a2}"),
        ("contractor_a", "worker={worker_b}"),
        ("contractor_b", "worker={worker_a}"),
    ],
)
def test_rate_filters_never_widen_a_contractors_scope(world, rates, client_for, caller, query):
    # given
    query = query.format(**{name: getattr(world, name).pk for name in ("worker_a", "worker_a2", "worker_b")})
    # when
    response = client_for(world.user(caller)).get(f"{API}/rates/?{query}")
    # then
    assert response.status_code == 200
    assert response.data["count"] == 0


RATE_CELLS = [
    # caller, method, target, expected
    ("anonymous", "GET", "rate_a", 401),
    ("anonymous", "PATCH", "rate_a", 401),
    ("anonymous", "DELETE", "rate_a", 401),
    ("contractor_a", "GET", "rate_a", 200),
    ("contractor_a", "GET", "rate_a2", 404),
    ("contractor_a", "GET", "rate_b", 404),
    ("contractor_a", "PATCH", "rate_a", 403),
    ("contractor_a", "PATCH", "rate_a2", 403),
    ("contractor_a", "PATCH", "rate_b", 403),
    ("contractor_a", "PUT", "rate_a", 403),
    ("contractor_a", "DELETE", "rate_a", 403),
    ("contractor_a", "DELETE", "rate_a2", 403),
    ("contractor_a", "DELETE", "rate_b", 403),
    ("contractor_b", "GET", "rate_a", 404),
    ("contractor_b", "GET", "rate_a2", 404),
    ("contractor_b", "GET", "rate_b", 200),
    ("contractor_b", "PATCH", "rate_b", 403),
    ("contractor_b", "DELETE", "rate_b", 403),
    ("manager_a", "GET", "rate_a", 403),
    ("manager_a", "GET", "rate_a2", 403),
    ("manager_a", "GET", "rate_b", 403),
    ("manager_a", "PATCH", "rate_a", 403),
    ("manager_a", "PATCH", "rate_b", 403),
    ("manager_a", "DELETE", "rate_a", 403),
    ("manager_a", "DELETE", "rate_b", 403),
    ("manager_b", "GET", "rate_a", 403),
    ("manager_b", "GET", "rate_b", 403),
    ("manager_b", "PATCH", "rate_b", 403),
    ("manager_b", "DELETE", "rate_b", 403),
    ("finance", "GET", "rate_a", 200),
    ("finance", "GET", "rate_a2", 200),
    ("finance", "GET", "rate_b", 200),
    ("finance", "PATCH", "rate_a", 200),
    ("finance", "PATCH", "rate_b", 200),
    ("finance", "PUT", "rate_a2", 200),
    ("finance", "DELETE", "rate_a2", 204),
    ("finance", "DELETE", "rate_b", 204),
    ("admin", "GET", "rate_a", 200),
    ("admin", "GET", "rate_a2", 200),
    ("admin", "GET", "rate_b", 200),
    ("admin", "PATCH", "rate_a2", 200),
    ("admin", "PATCH", "rate_b", 200),
    ("admin", "PUT", "rate_b", 200),
    ("admin", "DELETE", "rate_a", 204),
    ("admin", "DELETE", "rate_b", 204),
]


@pytest.mark.parametrize(("caller", "method", "target", "expected"), RATE_CELLS)
def test_rate_object_access(world, rates, client_for, caller, method, target, expected):
    # given
    rate = rates[target]
    put = {
        "worker": rate.worker_id,
        "project": None,
        "hourly_rate": "18.25",
        "currency": "USD",
        "effective_from": "2026-01-01",
    }
    body = {"PATCH": {"hourly_rate": "18.25"}, "PUT": put}.get(method)
    # when
    response = send(client_for(world.user(caller)), method, f"{API}/rates/{rate.pk}/", body)
    # then
    assert response.status_code == expected, response.data
    stored = Rate.objects.filter(pk=rate.pk).first()
    assert (stored is None) == (method == "DELETE" and expected == 204)
    if stored is not None:
        changed = stored.hourly_rate == Decimal("18.25")
        assert changed == (method in ("PATCH", "PUT") and expected == 200)
    if method == "GET" and expected == 200:
        assert (response.data["id"], response.data["worker"]) == (rate.pk, rate.worker_id)
        assert response.data["hourly_rate"] == "15.00"


@pytest.mark.parametrize(
    ("caller", "worker", "expected"),
    [
        ("anonymous", "worker_a", 401),
        ("contractor_a", "worker_a", 403),
        ("contractor_a", "worker_b", 403),
        ("contractor_b", "worker_b", 403),
        ("manager_a", "worker_a", 403),
        ("manager_b", "worker_b", 403),
        ("finance", "worker_a", 201),
        ("finance", "worker_b", 201),
        ("admin", "worker_a2", 201),
    ],
)
def test_rates_create(world, rates, client_for, caller, worker, expected):
    # given
    target = getattr(world, worker)
    body = {
        "worker": target.pk,
        "project": None,
        "hourly_rate": "22.50",
        "currency": "USD",
        "effective_from": "2026-12-01",
    }
    # when
    response = client_for(world.user(caller)).post(f"{API}/rates/", body, format="json")
    # then
    assert response.status_code == expected, response.data
    created = Rate.objects.filter(worker=target, hourly_rate=Decimal("22.50"))
    assert created.exists() == (expected == 201)
    if expected == 201:
        assert response.data["project"] is None
        assert response.data["hourly_rate"] == "22.50"


def test_a_default_rate_may_omit_project(world, client_for):
    # given: API.md makes `project` nullable; leaving it out means the worker's default rate
    body = {
        "worker": world.worker_b.pk,
        "hourly_rate": "22.50",
        "currency": "USD",
        "effective_from": "2026-12-01",
    }
    # when
    response = client_for(world.finance).post(f"{API}/rates/", body, format="json")
    # then
    assert response.status_code == 201, response.data
    assert Rate.objects.get(pk=response.data["id"]).project is None


# --- foreign keys in request bodies ---------------------------------------------------------


def test_finance_cannot_scope_a_rate_to_a_project_the_worker_is_not_on(world, client_for):
    # given: worker_a is on project_a only
    body = {
        "worker": world.worker_a.pk,
        "project": world.project_b.pk,
        "hourly_rate": "30.00",
        "currency": "USD",
        "effective_from": "2026-12-01",
    }
    # when
    response = client_for(world.finance).post(f"{API}/rates/", body, format="json")
    # then
    assert response.status_code == 400
    assert set(response.data) == {"project"}
    assert not Rate.objects.filter(project=world.project_b).exists()


def test_a_rate_cannot_be_moved_to_another_worker(world, rates, client_for):
    # when
    response = client_for(world.finance).patch(
        f"{API}/rates/{rates['rate_a'].pk}/", {"worker": world.worker_b.pk}, format="json"
    )
    # then
    assert response.status_code == 400
    assert set(response.data) == {"worker"}
    assert Rate.objects.get(pk=rates["rate_a"].pk).worker == world.worker_a
