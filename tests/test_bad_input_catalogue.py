"""Bad input to every write endpoint of the API: a clean refusal that names its field, no row written.

Each endpoint is listed once with a caller who may use it and a body it accepts (checked
by the first test), then every case below is sent as a careless client or an attacker
would: other content types, duplicate keys, NaN and 1e400, deep nesting, huge bodies,
wrong JSON types, NUL bytes, padded or odd spellings of ids, instants, dates, periods
and amounts. A refusal is checked three ways: the status, the field its JSON names, and
that no table gained or lost a row (tests.api_helpers.row_counts: every model).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from rest_framework.test import APIClient

from payroll.services.invoices import invoice_issue
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from tests.api_helpers import row_counts
from tests.conftest import NOW, World
from tests.factories import RateFactory, SessionFactory, UserFactory
from trainers.models import Role

pytestmark = pytest.mark.django_db

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


@pytest.fixture
def stage(world, frozen_now) -> Stage:
    return Stage(world)


# Field kinds, each with its own bad spellings below.
TEXT, ID, IDS, INSTANT, DATE, PERIOD, AMOUNT, COUNT = (
    "text",
    "id",
    "ids",
    "instant",
    "date",
    "period",
    "amount",
    "count",
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
    }


def worker_edit(s: Stage) -> dict[str, Any]:
    return {**worker(s), "user": s.world.contractor_a.pk}


def rate(s: Stage) -> dict[str, Any]:
    return {
        "worker": s.world.worker_a.pk,
        "project": s.world.project_a.pk,
        "hourly_rate": "16.50",
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
}
WORKER_FIELDS = {"user": ID, "team": ID, "full_name": TEXT, "time_zone": TEXT, "tax_rate": AMOUNT}
RATE_FIELDS = {"worker": ID, "project": ID, "hourly_rate": AMOUNT, "effective_from": DATE}
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
        lambda s: {"project": s.world.project_a.pk, "notes": "ranking"},
        {"project": ID, "notes": TEXT},
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
    Endpoint("timesheets-submit", "contractor_a", "post", "timesheets/{s.open_timesheet}/submit/", None),
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


def assert_clean_refusal(response: Any, status: int, field: str, before: dict[str, int]) -> None:
    """The status, a JSON body naming `field` with a message, and not one row written."""
    assert response.status_code == status, (response.status_code, response.content[:600])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body, dict) and body.get(field), body
    assert row_counts() == before


@pytest.fixture
def caller(client_for, world) -> Callable[[Endpoint], APIClient]:
    return lambda endpoint: client_for(world.user(endpoint.caller))


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_the_catalogue_body_is_accepted(stage, caller, endpoint):
    """Each body below is valid as it stands, so every refusal is the case's doing."""
    body = endpoint.body(stage) if endpoint.body else None
    response = send(caller(endpoint), endpoint, stage, as_json(body) if body is not None else None)
    assert response.status_code == endpoint.accepted, response.content[:600]


# --- bodies the API cannot read: 415, 413 and 400, for every endpoint --------------------------


def form_encoded(body: dict[str, Any]) -> Sent:
    return Sent(urlencode(body, doseq=True).encode(), "application/x-www-form-urlencoded")


def multipart(body: dict[str, Any]) -> Sent:
    flat = {key: json.dumps(value) if isinstance(value, dict) else value for key, value in body.items()}
    return Sent(encode_multipart(BOUNDARY, flat), MULTIPART_CONTENT)


def retyped(content_type: str) -> Callable[[dict[str, Any]], Sent]:
    return lambda body: Sent(json.dumps(body).encode(), content_type)


UNREADABLE = [
    pytest.param(form_encoded, id="form-urlencoded"),
    pytest.param(multipart, id="multipart"),
    pytest.param(lambda body: Sent(b"abc", "multipart/form-data"), id="multipart-without-boundary"),
    pytest.param(retyped("text/plain"), id="text-plain"),
    pytest.param(retyped("application/xml"), id="xml"),
    pytest.param(retyped(""), id="no-content-type"),
    pytest.param(retyped("application/json; charset=bogus"), id="charset-bogus"),
    pytest.param(retyped("application/json; charset=latin-1"), id="charset-latin-1"),
]


@pytest.mark.parametrize("encode", UNREADABLE)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_a_body_in_another_content_type_is_a_415(stage, caller, endpoint, encode):
    client, body = caller(endpoint), endpoint.body(stage) if endpoint.body else {"note": "x"}
    endpoint.url(stage)
    before = row_counts()
    response = send(client, endpoint, stage, encode(body))
    assert_clean_refusal(response, 415, "detail", before)
    assert "application/json" in response.json()["detail"]


def first_value_as(literal: str) -> Callable[[dict[str, Any]], Sent]:
    """The body with its first field's value written as `literal`, raw."""

    def encode(body: dict[str, Any]) -> Sent:
        key = next(iter(body))
        text = json.dumps({key: "__LITERAL__", **{k: v for k, v in body.items() if k != key}})
        return Sent(text.replace('"__LITERAL__"', literal).encode(), "application/json")

    return encode


def raw(text: str) -> Callable[[dict[str, Any]], Sent]:
    return lambda body: Sent(text.encode(), "application/json")


MALFORMED = [
    pytest.param(first_value_as("NaN"), "detail", id="NaN-literal"),
    pytest.param(first_value_as("Infinity"), "detail", id="Infinity-literal"),
    pytest.param(first_value_as("-Infinity"), "detail", id="minus-Infinity-literal"),
    pytest.param(first_value_as("1e400"), "detail", id="1e400-literal"),
    pytest.param(first_value_as("[" * 10_000 + "]" * 10_000), "detail", id="10000-nested-lists"),
    pytest.param(raw("[" * 10_000), "detail", id="10000-open-lists"),
    pytest.param(raw('{"a": ' * 10_000 + "1" + "}" * 10_000), "detail", id="10000-nested-objects"),
    pytest.param(raw('{"note": '), "detail", id="truncated"),
    pytest.param(lambda body: Sent(b"\xff\xfe{\x00", "application/json"), "detail", id="not-utf-8"),
    pytest.param(raw("[]"), "non_field_errors", id="a-list-not-an-object"),
    pytest.param(raw('"text"'), "non_field_errors", id="a-string-not-an-object"),
    pytest.param(raw("17"), "non_field_errors", id="a-number-not-an-object"),
]


@pytest.mark.parametrize(("encode", "field"), MALFORMED)
@pytest.mark.parametrize("endpoint", WITH_BODY, ids=lambda e: e.name)
def test_a_malformed_json_body_is_a_400(stage, caller, endpoint, encode, field):
    client, body = caller(endpoint), endpoint.body(stage)
    endpoint.url(stage)
    before = row_counts()
    response = send(client, endpoint, stage, encode(body))
    assert_clean_refusal(response, 400, field, before)


@pytest.mark.parametrize("endpoint", WITH_BODY, ids=lambda e: e.name)
def test_a_key_given_twice_is_a_400_naming_it(stage, caller, endpoint):
    client, body = caller(endpoint), endpoint.body(stage)
    endpoint.url(stage)
    key, value = next(iter(body.items()))
    text = json.dumps(body)[:-1] + f", {json.dumps(key)}: {json.dumps(value)}}}"
    before = row_counts()
    response = send(client, endpoint, stage, Sent(text.encode(), "application/json"))
    assert_clean_refusal(response, 400, key, before)


@pytest.mark.parametrize("endpoint", WITH_BODY, ids=lambda e: e.name)
def test_a_body_over_the_limit_is_a_413(stage, caller, endpoint):
    client, body = caller(endpoint), endpoint.body(stage)
    endpoint.url(stage)
    content = json.dumps(body).encode()
    padded = content + b" " * (settings.MAX_JSON_BODY_BYTES + 1 - len(content))
    before = row_counts()
    response = send(client, endpoint, stage, Sent(padded, "application/json"))
    assert_clean_refusal(response, 413, "detail", before)


# --- one field at a time: each kind's wrong types and odd spellings ---------------------------

WRONG_TYPES = [
    pytest.param(["a", "list"], id="list"),
    pytest.param({"an": "object"}, id="object"),
]
BAD_VALUES: dict[str, list[Any]] = {
    TEXT: [
        pytest.param("before\x00after", id="NUL-byte"),
        *WRONG_TYPES,
    ],
    ID: [
        pytest.param(lambda good: float(good), id="float"),
        pytest.param(lambda good: str(good), id="string"),
        pytest.param(lambda good: f" {good}", id="padded-string"),
        pytest.param(True, id="boolean"),
        pytest.param(lambda good: [good], id="list"),
        pytest.param({"id": 1}, id="object"),
        pytest.param(10**30, id="10e30"),
        pytest.param("NaN", id="NaN-string"),
    ],
    IDS: [
        pytest.param(lambda good: [float(good[0])], id="float-in-list"),
        pytest.param(lambda good: [str(good[0])], id="string-in-list"),
        pytest.param(lambda good: good[0], id="not-a-list"),
        pytest.param([[1]], id="nested-list"),
        pytest.param([10**30], id="10e30-in-list"),
        pytest.param("1,2", id="text"),
    ],
    INSTANT: [
        pytest.param("2026-11-19T10:00:00", id="naive"),
        pytest.param("2026-11-19T10:00", id="naive-no-seconds"),
        pytest.param("2026-11-19 10:00:00Z", id="space-not-T"),
        pytest.param("2026-11-19T10:00Z", id="no-seconds"),
        pytest.param("20261119T100000Z", id="basic-format"),
        pytest.param("2026-11-19t10:00:00z", id="lower-case"),
        pytest.param("0000-01-01T00:00:00Z", id="year-0"),
        pytest.param("10000-01-01T00:00:00Z", id="year-10000"),
        pytest.param("2026-11-19T24:00:00Z", id="hour-24"),
        pytest.param("2026-02-30T10:00:00Z", id="30-February"),
        pytest.param(" 2026-11-19T10:00:00Z", id="leading-space"),
        pytest.param("2026-11-19T10:00:00Z ", id="trailing-space"),
        pytest.param("2026-11-19T10:00:00Z\x00", id="NUL-byte"),
        pytest.param("NaN", id="NaN-string"),
        pytest.param(1795000000, id="epoch-number"),
        *WRONG_TYPES,
    ],
    DATE: [
        pytest.param("20261201", id="basic-format"),
        pytest.param("2026-W49-1", id="week-date"),
        pytest.param("2026-335", id="ordinal-date"),
        pytest.param("12/01/2026", id="US-format"),
        pytest.param("2026-12-01T00:00:00Z", id="a-date-time"),
        pytest.param(" 2026-12-01", id="leading-space"),
        pytest.param("2026-12-01 ", id="trailing-space"),
        pytest.param("0000-12-01", id="year-0"),
        pytest.param("10000-12-01", id="year-10000"),
        pytest.param("2026-12-01\x00", id="NUL-byte"),
        pytest.param(20261201, id="number"),
        *WRONG_TYPES,
    ],
    PERIOD: [
        pytest.param(" 2026-W45", id="leading-space"),
        pytest.param("2026-W45 ", id="trailing-space"),
        pytest.param("2026-W45\n", id="trailing-newline"),
        pytest.param("2026-w45", id="lower-case-w"),
        pytest.param("2026W45", id="no-dash"),
        pytest.param("%", id="percent"),
        pytest.param("%s%(x)s", id="format-directives"),
        pytest.param("2026-W45\x00", id="NUL-byte"),
        pytest.param(202645, id="number"),
        *WRONG_TYPES,
    ],
    AMOUNT: [
        pytest.param(" 5", id="leading-space"),
        pytest.param("5 ", id="trailing-space"),
        pytest.param("NaN", id="NaN-string"),
        pytest.param("Infinity", id="Infinity-string"),
        pytest.param("-Infinity", id="minus-Infinity-string"),
        pytest.param("1e400", id="1e400-string"),
        pytest.param("5,00", id="decimal-comma"),
        pytest.param("1_0", id="underscore"),
        pytest.param(10**30, id="10e30"),
        *WRONG_TYPES,
    ],
    COUNT: [
        pytest.param(" 3", id="leading-space"),
        pytest.param("3 ", id="trailing-space"),
        pytest.param(1.5, id="fraction"),
        pytest.param("NaN", id="NaN-string"),
        pytest.param("1e400", id="1e400-string"),
        pytest.param(True, id="boolean"),
        *WRONG_TYPES,
    ],
}


def field_cases() -> list[Any]:
    """(endpoint, field, bad value) for every field of every endpoint, by the field's kind."""
    cases = []
    for endpoint in WITH_BODY:
        for name, kind in endpoint.fields.items():
            for value in BAD_VALUES[kind]:
                (bad,) = value.values
                cases.append(pytest.param(endpoint, name, bad, id=f"{endpoint.name}-{name}-{value.id}"))
    return cases


@pytest.mark.parametrize(("endpoint", "name", "bad"), field_cases())
def test_a_bad_field_is_a_400_naming_it(stage, caller, endpoint, name, bad):
    client, body = caller(endpoint), endpoint.body(stage)
    endpoint.url(stage)
    body[name] = bad(body[name]) if callable(bad) else bad
    before = row_counts()
    response = send(client, endpoint, stage, as_json(body))
    assert_clean_refusal(response, 400, name, before)


# --- the probe's findings, as the probe sent them -----------------------------------------------


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("timesheets", "period"),
        ("sessions", "period"),
        ("invoices", "period"),
        ("adjustments", "applies_to_period"),
    ],
)
@pytest.mark.parametrize("role", ["contractor_a", "manager_a", "finance", "admin"])
@pytest.mark.parametrize("period", ["%25", "%25s", "%25(x)s", "%202026-W45", "2026-W45%20"])
def test_a_period_filter_with_percent_signs_or_spaces_is_a_400(world, client_for, path, name, role, period):
    response = client_for(getattr(world, role)).get(f"{API}/{path}/?{name}={period}")
    if response.status_code == 403:  # a role that may not list these at all
        return
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert response.json()[name]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("rates/?effective_from=20261201", id="rates-date-basic-format"),
        pytest.param("rates/?effective_from=12/01/2026", id="rates-date-US-format"),
        pytest.param("rates/?effective_from=%25", id="rates-date-percent"),
        pytest.param("sessions/?started_after=2026-11-01%2010:00:00Z", id="sessions-instant-space"),
        pytest.param("sessions/?started_after=%202026-11-01T00:00:00Z", id="sessions-instant-leading-space"),
        pytest.param("sessions/?source=%25", id="sessions-source-percent"),
        pytest.param("invoices/payout/?period=%202026-W45", id="payout-period-leading-space"),
    ],
)
def test_a_query_in_another_spelling_is_a_400_naming_it(world, client_for, query):
    response = client_for(world.finance).get(f"{API}/{query}")
    name = query.split("?")[1].split("=")[0]
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert response.json()[name]


@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
@pytest.mark.parametrize(
    "path",
    [
        "sessions/12345678901234567890/",
        "sessions/1234567890123456789/stop/",
        "rates/99999999999999999999999/",
        "nowhere/",
        "sessions/abc/",
    ],
)
def test_an_api_url_that_matches_no_route_answers_json_404(world, client_for, method, path):
    client = client_for(world.admin)
    before = row_counts()
    response = getattr(client, method)(f"{API}/{path}")
    assert_clean_refusal(response, 404, "detail", before)


@pytest.mark.parametrize("path", ["/nowhere/", "/api/v1/nowhere/", "/api/v1/sessions/12345678901234567890/"])
def test_a_boundary_less_multipart_post_with_a_csrf_cookie_is_never_a_500(world, path):
    """Django's 404 view checks CSRF and so reads the body; the test client skips that unless asked."""
    client = APIClient(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "a" * 32
    response = client.generic("POST", path, b"abc", content_type="multipart/form-data")
    assert response.status_code == 404, response.content[:300]
    if path.startswith("/api/"):
        assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("encode", [form_encoded, multipart], ids=["form-urlencoded", "multipart"])
@pytest.mark.parametrize(
    ("path", "body", "kept"),
    [
        pytest.param(
            "projects/{s.world.project_a.pk}/",
            {"name": "Renamed", "client": "Acme AI"},
            "project",
            id="project",
        ),
        pytest.param("workers/{s.world.worker_a.pk}/", {"full_name": "Renamed"}, "worker", id="worker"),
    ],
)
def test_a_form_put_is_refused_and_clears_nothing(stage, client_for, encode, path, body, kept):
    """A form PUT of two fields used to clear the project's workers and deactivate the row."""
    world = stage.world
    before_workers = set(world.project_a.workers.values_list("pk", flat=True))
    response = client_for(world.finance).generic(
        "PUT", f"{API}/{path.format(s=stage)}", **_django(encode(body))
    )
    assert response.status_code == 415, response.content[:300]
    world.project_a.refresh_from_db()
    world.worker_a.refresh_from_db()
    assert world.project_a.is_active and world.worker_a.is_active
    assert set(world.project_a.workers.values_list("pk", flat=True)) == before_workers


def _django(sent: Sent) -> dict[str, Any]:
    return {"data": sent.content, "content_type": sent.content_type}


def test_the_csv_import_still_takes_csv_and_multipart_but_not_a_form(stage, client_for):
    world = stage.world
    client = client_for(world.contractor_a)
    csv = f"project,started_at,ended_at\n{world.project_a.pk},2026-11-19T15:00:00Z,2026-11-19T16:00:00Z\n"
    upload = client.post(f"{API}/sessions/import/", {"file": _file(csv)}, format="multipart")
    assert upload.status_code == 201, upload.content[:300]
    plain = client.generic(
        "POST",
        f"{API}/sessions/import/",
        csv.replace("15:00", "17:00").replace("16:00", "18:00").encode(),
        content_type="text/csv",
    )
    assert plain.status_code == 201, plain.content[:300]
    before = row_counts()
    form = client.generic("POST", f"{API}/sessions/import/", **_django(form_encoded({"file": csv})))
    assert_clean_refusal(form, 415, "detail", before)


def _file(text: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("sessions.csv", text.encode(), content_type="text/csv")
