"""Who may do what to which object: timesheets/, adjustments/, payroll/close/ and jobs/{id}/.

Scoping as sessions: a contractor sees their own, a manager their teams', finance and
admins everything; anything outside the caller's scope is 404, as if it did not exist. A
verb the role may never use is 403 before any object is looked up.
"""

from typing import Any

import pytest

from payroll.models import Adjustment, Job, Timesheet
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import RateFactory, UserFactory
from trainers.models import Role

pytestmark = pytest.mark.django_db

API = "/api/v1"
W45 = "2026-W45"
CALLERS = ("anonymous", "contractor_a", "contractor_b", "manager_a", "manager_b", "finance", "admin")


@pytest.fixture(autouse=True)
def _now(frozen_now):
    """Every test runs at Fri 2026-11-20 12:00 UTC."""


@pytest.fixture
def sheets(world) -> dict[str, Timesheet]:
    """ts_a and ts_b: contractor A's and B's W45 timesheets, both submitted (priced 15.00/h)."""
    result = {}
    for name, worker in (("ts_a", world.worker_a), ("ts_b", world.worker_b)):
        RateFactory(worker=worker)
        timesheet, _ = timesheet_get_or_create(worker=worker, period=W45)
        result[name] = timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit")
    return result


@pytest.fixture
def adjustments(world) -> dict[str, Adjustment]:
    """adj_a and adj_b: one correction for contractor A and one for contractor B."""
    return {
        name: Adjustment.objects.create(
            worker=worker,
            amount="5.00",
            currency="USD",
            reason="x",
            applies_to_period="2026-W47",
            created_by=world.finance,
        )
        for name, worker in (("adj_a", world.worker_a), ("adj_b", world.worker_b))
    }


@pytest.fixture
def jobs(world) -> dict[str, Job]:
    """job_finance and job_admin: a finished close started by each."""
    return {
        f"job_{who}": Job.objects.create(
            kind="close_period",
            params={"period": period},
            params_key=f'{{"period":"{period}"}}',
            status="done",
            created_by=getattr(world, who),
        )
        for who, period in (("finance", "2026-W44"), ("admin", "2026-W43"))
    }


def send(client, method: str, path: str, body: dict | None = None) -> Any:
    if method == "GET":
        return client.get(f"{API}/{path}")
    return getattr(client, method.lower())(f"{API}/{path}", body or {}, format="json")


# --- timesheets/ -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "expected", "visible"),
    [
        ("anonymous", 401, None),
        ("contractor_a", 200, ["ts_a"]),
        ("contractor_b", 200, ["ts_b"]),
        ("manager_a", 200, ["ts_a"]),
        ("manager_b", 200, ["ts_b"]),
        ("finance", 200, ["ts_a", "ts_b"]),
        ("admin", 200, ["ts_a", "ts_b"]),
    ],
)
def test_timesheets_list(world, sheets, client_for, caller, expected, visible):
    # when
    response = client_for(world.user(caller)).get(f"{API}/timesheets/")
    # then
    assert response.status_code == expected
    if visible is not None:
        assert sorted(row["id"] for row in response.data["results"]) == sorted(sheets[n].pk for n in visible)


@pytest.mark.parametrize("caller", ["contractor_a", "manager_b"])
def test_timesheet_filters_never_widen_the_scope(world, sheets, client_for, caller):
    # given someone asking for a worker outside their scope
    other = world.worker_b if caller == "contractor_a" else world.worker_a
    # when
    response = client_for(world.user(caller)).get(f"{API}/timesheets/?worker={other.pk}")
    # then
    assert response.status_code == 200
    assert response.data["count"] == 0


# caller -> (GET ts_a, GET ts_b, submit ts_a, approve ts_a, approve ts_b, reject ts_a, reopen ts_a)
TIMESHEET_OBJECT_CELLS = {
    "anonymous": (401, 401, 401, 401, 401, 401, 401),
    "contractor_a": (200, 404, 409, 403, 403, 403, 403),
    "contractor_b": (404, 200, 404, 403, 403, 403, 403),
    "manager_a": (200, 404, 403, 200, 404, 200, 403),
    "manager_b": (404, 200, 403, 404, 200, 404, 403),
    "finance": (200, 200, 403, 403, 403, 403, 409),
    "admin": (200, 200, 403, 200, 200, 200, 409),
}
TIMESHEET_REQUESTS = [
    ("GET", "ts_a", ""),
    ("GET", "ts_b", ""),
    ("POST", "ts_a", "submit/"),
    ("POST", "ts_a", "approve/"),
    ("POST", "ts_b", "approve/"),
    ("POST", "ts_a", "reject/"),
    ("POST", "ts_a", "reopen/"),
]


@pytest.mark.parametrize(
    ("caller", "method", "target", "verb", "expected"),
    [
        (caller, method, target, verb, codes[i])
        for caller, codes in TIMESHEET_OBJECT_CELLS.items()
        for i, (method, target, verb) in enumerate(TIMESHEET_REQUESTS)
    ],
)
def test_timesheet_object_access(world, sheets, client_for, caller, method, target, verb, expected):
    # given both timesheets submitted
    timesheet = sheets[target]
    # when
    response = send(
        client_for(world.user(caller)), method, f"timesheets/{timesheet.pk}/{verb}", {"note": "n"}
    )
    # then
    assert response.status_code == expected, response.data
    if method == "GET" and expected == 200:
        assert (response.data["id"], response.data["worker"]) == (timesheet.pk, timesheet.worker_id)
    changed = Timesheet.objects.get(pk=timesheet.pk).status != "submitted"
    assert changed == (method == "POST" and expected == 200)


@pytest.mark.parametrize(
    ("caller", "body", "expected"),
    [
        ("anonymous", {"period": "2026-W46"}, 401),
        ("contractor_a", {"period": "2026-W46"}, 201),
        ("contractor_b", {"period": "2026-W46"}, 201),
        ("contractor_a", {"period": W45}, 200),
        ("contractor_b", {"worker": "worker_a", "period": "2026-W46"}, 400),
        ("manager_a", {"worker": "worker_a", "period": "2026-W46"}, 403),
        ("manager_b", {"worker": "worker_b", "period": "2026-W46"}, 403),
        ("finance", {"worker": "worker_a", "period": "2026-W46"}, 201),
        ("finance", {"worker": "worker_b", "period": W45}, 200),
        ("admin", {"worker": "worker_b", "period": "2026-W46"}, 201),
    ],
)
def test_timesheet_create_access(world, sheets, client_for, caller, body, expected):
    # given
    if "worker" in body:
        body = {**body, "worker": getattr(world, body["worker"]).pk}
    before = Timesheet.objects.count()
    # when
    response = send(client_for(world.user(caller)), "POST", "timesheets/", body)
    # then
    assert response.status_code == expected, response.data
    assert Timesheet.objects.count() == before + (expected == 201)


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("anonymous", 401),
        ("contractor_a", 200),
        ("contractor_b", 200),
        ("manager_a", 403),
        ("manager_b", 403),
        ("finance", 403),
        ("admin", 403),
    ],
)
def test_current_timesheet_is_for_contractors(world, client_for, caller, expected):
    # when
    response = client_for(world.user(caller)).get(f"{API}/timesheets/current/")
    # then
    assert response.status_code == expected
    if expected == 200:
        assert response.data["worker"] == world.user(caller).worker.pk


def test_a_contractor_without_a_worker_profile_gets_404(world, client_for):
    # given
    nobody = UserFactory(username="newcomer", role=Role.CONTRACTOR)
    client = client_for(nobody)
    # when / then
    assert client.get(f"{API}/timesheets/current/").status_code == 404
    assert send(client, "POST", "timesheets/", {"period": W45}).status_code == 404
    assert client.get(f"{API}/timesheets/").data["count"] == 0


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize(("caller", "expected"), [("finance", 405), ("admin", 405), ("manager_a", 403)])
def test_timesheets_change_only_through_their_verbs(world, sheets, client_for, method, caller, expected):
    # when
    response = send(
        client_for(world.user(caller)), method, f"timesheets/{sheets['ts_a'].pk}/", {"status": "open"}
    )
    # then
    assert response.status_code == expected
    assert Timesheet.objects.get(pk=sheets["ts_a"].pk).status == "submitted"


# --- adjustments/ ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "expected", "visible"),
    [
        ("anonymous", 401, None),
        ("contractor_a", 200, ["adj_a"]),
        ("contractor_b", 200, ["adj_b"]),
        ("manager_a", 200, ["adj_a"]),
        ("manager_b", 200, ["adj_b"]),
        ("finance", 200, ["adj_a", "adj_b"]),
        ("admin", 200, ["adj_a", "adj_b"]),
    ],
)
def test_adjustments_list(world, adjustments, client_for, caller, expected, visible):
    # when
    response = client_for(world.user(caller)).get(f"{API}/adjustments/")
    # then
    assert response.status_code == expected
    if visible is not None:
        assert sorted(row["id"] for row in response.data["results"]) == sorted(
            adjustments[n].pk for n in visible
        )


# caller -> (GET adj_a, GET adj_b, POST for worker A, POST for worker B)
ADJUSTMENT_CELLS = {
    "anonymous": (401, 401, 401, 401),
    "contractor_a": (200, 404, 403, 403),
    "contractor_b": (404, 200, 403, 403),
    "manager_a": (200, 404, 201, 400),
    "manager_b": (404, 200, 400, 201),
    "finance": (200, 200, 201, 201),
    "admin": (200, 200, 201, 201),
}


@pytest.mark.parametrize(("caller", "codes"), ADJUSTMENT_CELLS.items())
def test_adjustment_object_access(world, adjustments, client_for, caller, codes):
    # given
    client = client_for(world.user(caller))
    before = Adjustment.objects.count()
    # when
    reads = [client.get(f"{API}/adjustments/{adjustments[n].pk}/").status_code for n in ("adj_a", "adj_b")]
    writes = [
        send(
            client,
            "POST",
            "adjustments/",
            {"worker": worker.pk, "amount": "1.00", "currency": "USD", "reason": "Bonus."},
        ).status_code
        for worker in (world.worker_a, world.worker_b)
    ]
    # then
    assert (*reads, *writes) == codes
    assert Adjustment.objects.count() == before + writes.count(201)


# --- payroll/close/ and jobs/{id}/ -------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("anonymous", 401),
        ("contractor_a", 403),
        ("contractor_b", 403),
        ("manager_a", 403),
        ("manager_b", 403),
        ("finance", 202),
        ("admin", 202),
    ],
)
def test_close_access(world, client_for, django_capture_on_commit_callbacks, caller, expected):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client_for(world.user(caller)), "POST", "payroll/close/", {"period": W45})
    # then
    assert response.status_code == expected
    assert Job.objects.count() == (expected == 202)
    if expected == 202:
        job = Job.objects.get()
        assert response.data == {"job": job.pk}
        assert (job.created_by, job.status) == (world.user(caller), "done")


@pytest.mark.parametrize(("caller", "expected"), [("finance", 405), ("contractor_a", 403)])
def test_close_is_post_only(world, client_for, caller, expected):
    assert client_for(world.user(caller)).get(f"{API}/payroll/close/").status_code == expected


# caller -> (job started by finance, job started by the admin)
JOB_CELLS = {
    "anonymous": (401, 401),
    "contractor_a": (404, 404),
    "contractor_b": (404, 404),
    "manager_a": (404, 404),
    "manager_b": (404, 404),
    "finance": (200, 200),  # finance watches every job: closes started by beat have no starter
    "admin": (200, 200),
}


@pytest.mark.parametrize(("caller", "codes"), JOB_CELLS.items())
def test_job_access(world, jobs, client_for, caller, codes):
    # given
    client = client_for(world.user(caller))
    # when
    responses = [client.get(f"{API}/jobs/{jobs[name].pk}/") for name in ("job_finance", "job_admin")]
    # then
    assert tuple(r.status_code for r in responses) == codes
    for response, name in zip(responses, ("job_finance", "job_admin"), strict=True):
        if response.status_code == 200:
            assert (response.data["id"], response.data["status"]) == (jobs[name].pk, "done")


def test_another_finance_user_may_watch_a_colleagues_job(world, jobs, client_for):
    """A second close request returns the colleague's running job: its progress must be readable."""
    # given
    colleague = UserFactory(username="finance2", role=Role.FINANCE)
    # when
    response = client_for(colleague).get(f"{API}/jobs/{jobs['job_finance'].pk}/")
    # then
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["jobs/", "jobs/abc/", "jobs/99999999999999999999/"])
def test_jobs_have_no_list_and_bad_ids_are_404(world, client_for, path):
    assert client_for(world.admin).get(f"{API}/{path}").status_code == 404
