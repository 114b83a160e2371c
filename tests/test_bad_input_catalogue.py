"""Bad input to every write endpoint of the API: a clean refusal that names its field, no row written.

Each endpoint is listed once (tests/bad_input_endpoints.py) with a caller who may use it
and a body it accepts (checked by the first test), then every case below is sent as a
careless client or an attacker would: other content types, duplicate keys, NaN and
1e400, deep nesting, huge bodies, wrong JSON types, NUL bytes, padded or odd spellings
of ids, instants, dates, periods and amounts. A refusal is checked three ways: the
status, the field its JSON names, and that no table gained or lost a row
(tests.api_helpers.row_counts: every model of our apps).
"""

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.api_helpers import row_counts
from tests.bad_input_endpoints import (
    AMOUNT,
    API,
    BOOLEAN,
    CHOICE,
    COUNT,
    DATE,
    ENDPOINTS,
    ID,
    IDS,
    INSTANT,
    PERIOD,
    TEXT,
    WITH_BODY,
    Endpoint,
    Sent,
    Stage,
    as_json,
    assert_clean_refusal,
    assert_each_refused,
    form_encoded,
    multipart,
    send,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def stage(world, frozen_now) -> Stage:
    return Stage(world)


@pytest.fixture
def caller(client_for, world) -> Callable[[Endpoint], APIClient]:
    return lambda endpoint: client_for(world.user(endpoint.caller))


def test_the_catalogue_lists_every_write_operation_of_the_api(client):
    """A new write endpoint must join the catalogue, or this fails naming it."""
    schema = client.get("/api/schema/?format=json").json()
    written = {
        (method, re.sub(r"\{[^}]*\}", "{}", path))
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("post", "put", "patch", "delete") and path.startswith(API)
    }
    listed = {(e.method, re.sub(r"\{[^}]*\}", "{}", f"{API}/{e.path}")) for e in ENDPOINTS}
    assert written - listed == set(CATALOGUED_ELSEWHERE)


# Write endpoints whose bodies are not JSON, with their own bad-input tests.
CATALOGUED_ELSEWHERE = {("post", f"{API}/sessions/import/"): "CSV: tests/trainers/test_api_session_import.py"}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_the_catalogue_body_is_accepted(stage, caller, endpoint):
    """Each body below is valid as it stands, so every refusal is the case's doing."""
    body = endpoint.body(stage) if endpoint.body else None
    response = send(caller(endpoint), endpoint, stage, as_json(body) if body is not None else None)
    assert response.status_code == endpoint.accepted, response.content[:600]


# --- bodies the API cannot read: 415, 413 and 400, for every endpoint --------------------------


def retyped(content_type: str) -> Callable[[dict[str, Any]], Sent]:
    return lambda body: Sent(json.dumps(body).encode(), content_type)


UNREADABLE = [
    ("form-urlencoded", form_encoded),
    ("multipart", multipart),
    ("multipart-without-boundary", lambda body: Sent(b"abc", "multipart/form-data")),
    ("text-plain", retyped("text/plain")),
    ("xml", retyped("application/xml")),
    ("no-content-type", retyped("")),
    ("charset-bogus", retyped("application/json; charset=bogus")),
    ("charset-latin-1", retyped("application/json; charset=latin-1")),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_a_body_in_another_content_type_is_a_415(stage, caller, endpoint):
    body = endpoint.body(stage) if endpoint.body else {"note": "x"}
    cases = [(label, encode(body), 415, "detail") for label, encode in UNREADABLE]
    assert_each_refused(caller(endpoint), endpoint, stage, cases)


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
    ("NaN-literal", first_value_as("NaN"), "detail"),
    ("Infinity-literal", first_value_as("Infinity"), "detail"),
    ("minus-Infinity-literal", first_value_as("-Infinity"), "detail"),
    ("1e400-literal", first_value_as("1e400"), "detail"),
    ("10000-nested-lists", first_value_as("[" * 10_000 + "]" * 10_000), "detail"),
    ("10000-open-lists", raw("[" * 10_000), "detail"),
    ("10000-nested-objects", raw('{"a": ' * 10_000 + "1" + "}" * 10_000), "detail"),
    ("truncated", raw('{"note": '), "detail"),
    ("not-utf-8", lambda body: Sent(b"\xff\xfe{\x00", "application/json"), "detail"),
    ("a-list-not-an-object", raw("[]"), "non_field_errors"),
    ("a-string-not-an-object", raw('"text"'), "non_field_errors"),
    ("a-number-not-an-object", raw("17"), "non_field_errors"),
]


@pytest.mark.parametrize("endpoint", WITH_BODY, ids=lambda e: e.name)
def test_a_malformed_json_body_is_a_400(stage, caller, endpoint):
    body = endpoint.body(stage)
    cases = [(label, encode(body), 400, field) for label, encode, field in MALFORMED]
    assert_each_refused(caller(endpoint), endpoint, stage, cases)


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
    BOOLEAN: [
        pytest.param("true", id="string"),
        pytest.param(1, id="number"),
        pytest.param(None, id="null"),
        pytest.param([True], id="list"),
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
    CHOICE: [
        pytest.param("coffee", id="unknown"),
        pytest.param(lambda good: good.upper(), id="upper-case"),
        pytest.param(lambda good: f" {good}", id="padded"),
        pytest.param(lambda good: f"{good}\x00", id="NUL-byte"),
        pytest.param(3, id="number"),
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
    """(endpoint, field) for every field of every endpoint; its kind names its bad values."""
    return [
        pytest.param(endpoint, name, kind, id=f"{endpoint.name}-{name}")
        for endpoint in WITH_BODY
        if endpoint.method != "put"  # the same serializer as the PATCH, which carries them
        for name, kind in endpoint.fields.items()
    ]


@pytest.mark.parametrize(("endpoint", "name", "kind"), field_cases())
def test_a_bad_field_is_a_400_naming_it(stage, caller, endpoint, name, kind):
    cases = []
    for value in BAD_VALUES[kind]:
        (bad,) = value.values
        body = endpoint.body(stage)
        body[name] = bad(body[name]) if callable(bad) else bad
        cases.append((str(value.id), as_json(body), 400, name))
    assert_each_refused(caller(endpoint), endpoint, stage, cases)
