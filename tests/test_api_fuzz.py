"""Fuzz the published OpenAPI schema in-process: whatever a client sends, never a 500.

schemathesis reads /api/schema/ from the WSGI app and, for every GET/POST/PUT/PATCH/DELETE
operation under /api/v1/, sends schema-valid and schema-breaking requests with a token
header: as contractor A (the brief's caller) and as the admin (whose writes reach the
worker, project and rate serializers that contractors are refused before parsing).
A second run sends only schema-breaking data (schemathesis's negative mode) and checks
that every refused call (4xx) left every table's row count as it was.

Bounded and deterministic: a fixed seed, derandomized Hypothesis, no example database,
a few examples per operation plus the coverage phase's boundary values, no stateful
phase. A whole-number `{id}` in a path is aimed at an object that exists, so detail
routes and PATCH bodies reach the serializers instead of stopping at 404; other ids
(strings, negatives) are sent as generated.
"""

from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from config.wsgi import application
from tests.api_helpers import row_counts
from tests.factories import RateFactory, api_token

FUZZ_CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20261120,
        "generation": {"max-examples": 5, "deterministic": True, "database": "none"},
        "phases": {"stateful": {"enabled": False}},
    }
)

# Only schema-breaking data, a few examples per operation and no boundary-value phase:
# about half a minute over every operation and both callers.
NEGATIVE_CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20261207,
        "generation": {"mode": "negative", "max-examples": 3, "deterministic": True, "database": "none"},
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
WRITES = ["POST", "PUT", "PATCH", "DELETE"]
# Each caller fuzzes what its role may reach; a write the role is refused is a 403 before
# the body is even parsed, so it is fuzzed only by the caller who may make it.
ADMIN_ONLY_WRITES = r"^/api/v1/(users|teams|workers|projects|rates)/"
CONTRACTOR_ONLY_WRITES = r"^/api/v1/sessions/(start/|\{id\}/|\{id\}/stop/)?$"


def for_each_caller(config: SchemathesisConfig) -> tuple[Any, Any]:
    """The operations the contractor and the admin fuzz, under `config`."""
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=config).include(
        path_regex=r"^/api/v1/", method=METHODS
    )
    as_contractor = schema.exclude(method=WRITES, path_regex=ADMIN_ONLY_WRITES)
    as_admin = schema.exclude(method=WRITES, path_regex=CONTRACTOR_ONLY_WRITES).exclude(
        path_regex=r"^/api/v1/auth/"
    )
    return as_contractor, as_admin


def takes_no_input(context: Any) -> bool:
    """An operation with no parameters and no body: nothing to send it breaks its schema.

    Read from the raw definition: the operation's parsed parameters are not built yet
    when schemathesis filters.
    """
    definition = context.operation.definition
    raw = getattr(definition, "raw", definition)
    return not raw.get("parameters") and "requestBody" not in raw and "{" not in context.operation.path


as_contractor, as_admin = for_each_caller(FUZZ_CONFIG)
# Negative data needs an input to break; operations that take none (GET me/) have no negative case.
negative_as_contractor, negative_as_admin = (
    schema.exclude(takes_no_input) for schema in for_each_caller(NEGATIVE_CONFIG)
)


@pytest.fixture(autouse=True)
def keep_the_test_transaction():
    """Requests through the raw WSGI app would close the connection (and so the test's
    transaction) at their end; Django's own test client disconnects this signal too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def who(world, username) -> dict[str, Any]:
    """The caller's token and, per resource in a path, the id of an object they may see."""
    user = world.user(username)
    return {
        "token": api_token(user),
        "ids": {
            "sessions": world.session_a.pk,
            "workers": world.worker_a.pk,
            "projects": world.project_a.pk,
            "rates": RateFactory(worker=world.worker_a).pk,
            "teams": world.team_a.pk,
            "users": user.pk,
        },
    }


def send(case: Any, who: dict[str, Any]) -> Any:
    """Aim a whole-number {id} at a real object, then send and check for a server error."""
    if isinstance((case.path_parameters or {}).get("id"), int):
        resource = case.operation.path.split("/")[3]
        case.path_parameters["id"] = who["ids"].get(resource, case.path_parameters["id"])
    return case.call_and_validate(
        headers={"Authorization": f"Token {who['token']}"}, checks=[not_a_server_error]
    )


def send_refusable(case: Any, who: dict[str, Any]) -> None:
    """Send, then: a refusal (4xx) wrote nothing, in any table."""
    before = row_counts()
    response = send(case, who)
    if 400 <= response.status_code < 500:
        assert row_counts() == before, (case.method, case.formatted_path, response.status_code)


RELAXED = settings(
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ]
)


# The one-value parametrize names the caller in each item's id, e.g. `[GET /api/v1/me/][contractor_a]`.
@as_contractor.parametrize()
@pytest.mark.parametrize("username", ["contractor_a"])
@RELAXED
def test_no_contractor_request_causes_a_server_error(case, who):
    send(case, who)


@as_admin.parametrize()
@pytest.mark.parametrize("username", ["admin"])
@RELAXED
def test_no_admin_request_causes_a_server_error(case, who):
    send(case, who)


@negative_as_contractor.parametrize()
@pytest.mark.parametrize("username", ["contractor_a"])
@RELAXED
def test_no_refused_contractor_request_writes_a_row(case, who):
    send_refusable(case, who)


@negative_as_admin.parametrize()
@pytest.mark.parametrize("username", ["admin"])
@RELAXED
def test_no_refused_admin_request_writes_a_row(case, who):
    send_refusable(case, who)
