"""The API's write endpoints for the bad-input tests: who may call each, a body it accepts, its fields.

Each endpoint is listed once (tests/test_bad_input_catalogue.py checks its body is accepted
as it stands), with the kind of each field, so every kind's odd spellings reach every
field of that kind. A `Stage` builds the objects an endpoint acts on the first time its
path names them (a rate, a running timer, a submitted timesheet, an invoice).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from rest_framework.test import APIClient

from payroll.services.invoices import invoice_issue
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.api_helpers import row_counts
from tests.conftest import NOW, World
from tests.factories import RateFactory, SessionFactory, UserFactory
from trainers.models import Role

API = "/api/v1"
W45 = "2026-W45"  # the world's sessions are in it (Mon 2 November 2026)


class Stage:
    """The world plus the objects an endpoint acts on, each built the first time it is named."""

    def __init__(self, world: World) -> None:
        self.world = world

    @cached_property
    def rates(self) -> None:
        for worker in (self.world.worker_a, self.world.worker_b):
            RateFactory(worker=worker, hourly_rate=Decimal("15.00"))

    @cached_property
    def rate(self) -> int:
        return RateFactory(worker=self.world.worker_a, effective_from=NOW.date()).pk

    @cached_property
    def newcomer(self) -> int:
        """A contractor sign-in without a worker profile yet."""
        return UserFactory(username="newcomer", role=Role.CONTRACTOR).pk

    @cached_property
    def timer(self) -> int:
        return SessionFactory(
            worker=self.world.worker_a, project=self.world.project_a, started_at=NOW, ended_at=None
        ).pk

    @cached_property
    def open_timesheet(self) -> int:
        _ = self.rates
        return timesheet_get_or_create(worker=self.world.worker_a, period=W45)[0].pk

    @cached_property
    def submitted_timesheet(self) -> int:
        _ = self.rates
        timesheet, _ = timesheet_get_or_create(worker=self.world.worker_a, period=W45)
        return timesheet_transition(actor=self.world.contractor_a, timesheet=timesheet, action="submit").pk

    @cached_property
    def approved_timesheet(self) -> int:
        _ = self.rates
        timesheet, _ = timesheet_get_or_create(worker=self.world.worker_b, period=W45)
        timesheet_transition(actor=self.world.contractor_b, timesheet=timesheet, action="submit")
        return timesheet_transition(actor=self.world.manager_b, timesheet=timesheet, action="approve").pk

    @cached_property
    def invoice(self) -> int:
        from payroll.models import Timesheet

        timesheet = Timesheet.objects.get(pk=self.approved_timesheet)
        return invoice_issue(timesheet=timesheet, actor=self.world.finance)[0].pk


TEXT, ID, IDS, INSTANT, DATE, PERIOD, AMOUNT, COUNT, CHOICE, BOOLEAN = (
    "text",
    "id",
    "ids",
    "instant",
    "date",
    "period",
    "amount",
    "count",
    "choice",
    "boolean",
)


@dataclass(frozen=True)
class Endpoint:
    name: str
    caller: str
    method: str
    path: str  # formatted with the Stage: {s.rate}, {s.world.session_a.pk}, ...
    body: Callable[[Stage], dict[str, Any]] | None  # None: the endpoint takes no body
    fields: dict[str, str] = field(default_factory=dict)  # field -> kind
    accepted: int = 200

    def url(self, stage: Stage) -> str:
        return f"{API}/{self.path.format(s=stage)}"


def session(s: Stage) -> dict[str, Any]:
    return {
        "project": s.world.project_a.pk,
        "started_at": "2026-11-19T15:00:00Z",
        "ended_at": "2026-11-19T16:00:00+00:00",
        "task_count": 3,
        "notes": "batch 7",
        "activity": "review",
    }


def worker(s: Stage) -> dict[str, Any]:
    return {
        "user": s.newcomer,
        "full_name": "New Comer",
        "email": "newcomer@example.com",
        "time_zone": "America/Chicago",
        "currency": "USD",
        "team": s.world.team_a.pk,
        "tax_rate": "0.19",
        "minimum_hourly": "15.00",
    }


def worker_edit(s: Stage) -> dict[str, Any]:
    return {**worker(s), "user": s.world.contractor_a.pk}


def rate(s: Stage) -> dict[str, Any]:
    return {
        "worker": s.world.worker_a.pk,
        "project": s.world.project_a.pk,
        "hourly_rate": "16.50",
        "task_rate": "0.25",
        "currency": "USD",
        "effective_from": "2026-12-01",
    }


def project(s: Stage) -> dict[str, Any]:
    return {"name": "Night shift", "client": "Acme AI", "workers": [s.world.worker_a.pk]}


def team(s: Stage) -> dict[str, Any]:
    return {"name": "Team C", "managers": [s.world.manager_a.pk]}


SESSION_FIELDS = {
    "project": ID,
    "started_at": INSTANT,
    "ended_at": INSTANT,
    "task_count": COUNT,
    "notes": TEXT,
    "activity": CHOICE,
}
WORKER_FIELDS = {
    "user": ID,
    "team": ID,
    "full_name": TEXT,
    "time_zone": TEXT,
    "tax_rate": AMOUNT,
    "minimum_hourly": AMOUNT,
}
RATE_FIELDS = {
    "worker": ID,
    "project": ID,
    "hourly_rate": AMOUNT,
    "task_rate": AMOUNT,
    "effective_from": DATE,
}
PROJECT_FIELDS = {"name": TEXT, "client": TEXT, "workers": IDS}
TEAM_FIELDS = {"name": TEXT, "managers": IDS}
PERIOD_FIELDS = {"period": PERIOD}

ENDPOINTS = [
    Endpoint(
        "users-create",
        "admin",
        "post",
        "users/",
        lambda s: {
            "username": "newuser",
            "password": "a-long-passphrase",
            "email": "n@example.com",
            "role": "manager",
        },
        {"username": TEXT, "email": TEXT},
        201,
    ),
    Endpoint("teams-create", "admin", "post", "teams/", team, TEAM_FIELDS, 201),
    Endpoint("teams-put", "admin", "put", "teams/{s.world.team_a.pk}/", team, TEAM_FIELDS),
    Endpoint("teams-patch", "admin", "patch", "teams/{s.world.team_a.pk}/", team, TEAM_FIELDS),
    Endpoint("workers-create", "finance", "post", "workers/", worker, WORKER_FIELDS, 201),
    Endpoint(
        "workers-put",
        "finance",
        "put",
        "workers/{s.world.worker_a.pk}/",
        worker_edit,
        WORKER_FIELDS,
    ),
    Endpoint(
        "workers-patch", "finance", "patch", "workers/{s.world.worker_a.pk}/", worker_edit, WORKER_FIELDS
    ),
    Endpoint("projects-create", "finance", "post", "projects/", project, PROJECT_FIELDS, 201),
    Endpoint("projects-put", "finance", "put", "projects/{s.world.project_a.pk}/", project, PROJECT_FIELDS),
    Endpoint(
        "projects-patch", "finance", "patch", "projects/{s.world.project_a.pk}/", project, PROJECT_FIELDS
    ),
    Endpoint("sessions-create", "contractor_a", "post", "sessions/", session, SESSION_FIELDS, 201),
    Endpoint(
        "sessions-put", "contractor_a", "put", "sessions/{s.world.session_a.pk}/", session, SESSION_FIELDS
    ),
    Endpoint(
        "sessions-patch", "contractor_a", "patch", "sessions/{s.world.session_a.pk}/", session, SESSION_FIELDS
    ),
    Endpoint("sessions-delete", "contractor_a", "delete", "sessions/{s.world.session_a.pk}/", None, {}, 204),
    Endpoint(
        "sessions-start",
        "contractor_a",
        "post",
        "sessions/start/",
        lambda s: {"project": s.world.project_a.pk, "notes": "ranking", "activity": "training"},
        {"project": ID, "notes": TEXT, "activity": CHOICE},
        201,
    ),
    Endpoint(
        "sessions-stop",
        "contractor_a",
        "post",
        "sessions/{s.timer}/stop/",
        lambda s: {"task_count": 2},
        {"task_count": COUNT},
    ),
    Endpoint("rates-create", "finance", "post", "rates/", rate, RATE_FIELDS, 201),
    Endpoint("rates-put", "finance", "put", "rates/{s.rate}/", rate, RATE_FIELDS),
    Endpoint("rates-patch", "finance", "patch", "rates/{s.rate}/", rate, RATE_FIELDS),
    Endpoint("rates-delete", "finance", "delete", "rates/{s.rate}/", None, {}, 204),
    Endpoint(
        "timesheets-create",
        "finance",
        "post",
        "timesheets/",
        lambda s: {"worker": s.world.worker_a.pk, "period": "2026-W46"},
        {"worker": ID, "period": PERIOD},
        201,
    ),
    Endpoint(
        "timesheets-submit",
        "contractor_a",
        "post",
        "timesheets/{s.open_timesheet}/submit/",
        lambda s: {"confirm": False},
        {"confirm": BOOLEAN},
    ),
    Endpoint(
        "timesheets-bulk-approve",
        "manager_a",
        "post",
        "timesheets/bulk-approve/",
        lambda s: {"ids": [s.submitted_timesheet]},
        {"ids": IDS},
    ),
    Endpoint(
        "timesheets-approve",
        "manager_a",
        "post",
        "timesheets/{s.submitted_timesheet}/approve/",
        lambda s: {"note": "fine"},
        {"note": TEXT},
    ),
    Endpoint(
        "timesheets-reject",
        "manager_a",
        "post",
        "timesheets/{s.submitted_timesheet}/reject/",
        lambda s: {"note": "fix Tuesday"},
        {"note": TEXT},
    ),
    Endpoint(
        "timesheets-reopen",
        "finance",
        "post",
        "timesheets/{s.approved_timesheet}/reopen/",
        lambda s: {"note": "wrong rate"},
        {"note": TEXT},
    ),
    Endpoint(
        "adjustments-create",
        "finance",
        "post",
        "adjustments/",
        lambda s: {"worker": s.world.worker_a.pk, "amount": "5.00", "currency": "USD", "reason": "back pay"},
        {"worker": ID, "amount": AMOUNT, "reason": TEXT},
        201,
    ),
    Endpoint(
        "payroll-close", "finance", "post", "payroll/close/", lambda s: {"period": W45}, PERIOD_FIELDS, 202
    ),
    Endpoint(
        "payroll-invoice",
        "finance",
        "post",
        "payroll/invoice/",
        lambda s: {"period": W45},
        PERIOD_FIELDS,
        202,
    ),
    Endpoint(
        "invoices-pay",
        "finance",
        "post",
        "invoices/{s.invoice}/pay/",
        lambda s: {"paid_on": "2026-11-20", "payment_reference": "SEPA-1"},
        {"paid_on": DATE, "payment_reference": TEXT},
    ),
    Endpoint(
        "invoices-void",
        "finance",
        "post",
        "invoices/{s.invoice}/void/",
        lambda s: {"reason": "issued twice"},
        {"reason": TEXT},
    ),
    Endpoint(
        "exports-create",
        "finance",
        "post",
        "exports/",
        lambda s: {
            "report": "pay",
            "params": {"period_from": W45, "period_to": "2026-W46", "group_by": "worker"},
            "format": "csv",
        },
        {"report": TEXT, "format": TEXT},
        202,
    ),
    Endpoint(
        "auth-token",
        "anonymous",
        "post",
        "auth/token/",
        lambda s: {"username": "contractor_a", "password": "correct-horse-battery"},
        {"username": TEXT},
    ),
    Endpoint(
        "auth-password",
        "contractor_a",
        "post",
        "auth/password/",
        lambda s: {"old_password": "correct-horse-battery", "new_password": "a-new-long-passphrase-7"},
        {"old_password": TEXT, "new_password": TEXT},
        204,
    ),
    Endpoint(
        "auth-password-reset",
        "anonymous",
        "post",
        "auth/password/reset/",
        lambda s: {"email": "contractor_a@example.com"},
        {"email": TEXT},
        202,
    ),
    Endpoint("auth-token-delete", "contractor_a", "delete", "auth/token/", None, {}, 204),
    Endpoint("auth-tokens-delete", "contractor_a", "delete", "auth/tokens/", None, {}, 204),
]
WITH_BODY = [endpoint for endpoint in ENDPOINTS if endpoint.body is not None]


# --- sending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """A request body as raw bytes with its Content-Type ("" for none)."""

    content: bytes
    content_type: str


def as_json(body: Any) -> Sent:
    return Sent(json.dumps(body).encode(), "application/json")


def send(client: APIClient, endpoint: Endpoint, stage: Stage, sent: Sent | None) -> Any:
    url = endpoint.url(stage)  # the tests name it first, so its objects exist before counting
    if sent is None:
        return getattr(client, endpoint.method)(url)
    return client.generic(endpoint.method.upper(), url, sent.content, content_type=sent.content_type)


def refusal_problem(response: Any, status: int, field: str, before: dict[str, int]) -> str | None:
    """What is wrong with this refusal, or None if it is clean: the status, a JSON body
    naming `field` with a message, and not one row written in any table."""
    if response.status_code != status:
        return f"status {response.status_code}, not {status}: {response.content[:300]!r}"
    if not response["Content-Type"].startswith("application/json"):
        return f"answered {response['Content-Type']}"
    body = response.json()
    if not (isinstance(body, dict) and body.get(field)):
        return f"does not name {field}: {body}"
    if row_counts() != before:
        return "wrote rows"
    return None


def assert_clean_refusal(response: Any, status: int, field: str, before: dict[str, int]) -> None:
    problem = refusal_problem(response, status, field, before)
    assert problem is None, problem


def assert_each_refused(
    client: APIClient, endpoint: Endpoint, stage: Stage, cases: list[tuple[str, Sent, int, str]]
) -> None:
    """Send every case to one endpoint; fail naming each case that was not a clean refusal.

    One world for all of an endpoint's cases keeps the catalogue quick; every case still
    counts the rows before and after itself.
    """
    endpoint.url(stage)  # build what the path names before the first count
    wrong = []
    for label, sent, status, named in cases:
        before = row_counts()
        problem = refusal_problem(send(client, endpoint, stage, sent), status, named, before)
        if problem:
            wrong.append(f"{label}: {problem}")
    assert not wrong, "\n".join(wrong)


def form_encoded(body: dict[str, Any]) -> Sent:
    return Sent(urlencode(body, doseq=True).encode(), "application/x-www-form-urlencoded")


def multipart(body: dict[str, Any]) -> Sent:
    flat = {key: json.dumps(value) if isinstance(value, dict) else value for key, value in body.items()}
    return Sent(encode_multipart(BOUNDARY, flat), MULTIPART_CONTENT)


def as_django(sent: Sent) -> dict[str, Any]:
    return {"data": sent.content, "content_type": sent.content_type}
