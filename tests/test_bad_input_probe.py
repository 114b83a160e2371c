"""The independent probe's findings (issue 12), sent as the probe sent them.

`?period=%` was a 500 on every list with a period filter; a boundary-less multipart POST
with a CSRF cookie was a 500 on any unknown URL; an id of 19 digits got Django's HTML 404;
a form PUT of a project's name cleared its workers and deactivated it.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.api_helpers import row_counts
from tests.bad_input_endpoints import API, Stage, as_django, assert_clean_refusal, form_encoded, multipart

pytestmark = pytest.mark.django_db


@pytest.fixture
def stage(world, frozen_now) -> Stage:
    return Stage(world)


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
        pytest.param("sessions/?worker=1.0", id="sessions-worker-float"),
        pytest.param("sessions/?project=%201", id="sessions-project-leading-space"),
        pytest.param("rates/?worker=%2B1", id="rates-worker-plus-sign"),
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


def test_an_export_id_past_bigint_is_a_json_404(world, client_for):
    response = client_for(world.finance).get(f"{API}/exports/99999999999999999999999/download/")
    assert_clean_refusal(response, 404, "detail", row_counts())


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/nowhere/", 404),
        ("/api/v1/nowhere/", 404),
        ("/api/v1/sessions/12345678901234567890/", 404),
        ("/api/v1/sessions/", 415),
        ("/sign-in/", 400),
        ("/sessions/", 400),
    ],
)
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_a_boundary_less_multipart_post_with_a_csrf_cookie_is_never_a_500(world, path, status, signed_in):
    """Django's 404 view checks CSRF and so reads the body; the test client skips that unless asked."""
    client = APIClient(enforce_csrf_checks=True)
    if signed_in:
        client.force_login(world.contractor_a)
    client.cookies["csrftoken"] = "a" * 32
    response = client.generic("POST", path, b"abc", content_type="multipart/form-data")
    assert response.status_code == status, response.content[:300]
    if path.startswith("/api/"):
        assert response.json()["detail"]


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
        "PUT", f"{API}/{path.format(s=stage)}", **as_django(encode(body))
    )
    assert response.status_code == 415, response.content[:300]
    world.project_a.refresh_from_db()
    world.worker_a.refresh_from_db()
    assert world.project_a.is_active and world.worker_a.is_active
    assert set(world.project_a.workers.values_list("pk", flat=True)) == before_workers


def test_the_csv_import_still_takes_csv_and_multipart_but_not_a_form(stage, client_for):
    world = stage.world
    client = client_for(world.contractor_a)
    csv = f"project,started_at,ended_at\n{world.project_a.pk},2026-11-19T15:00:00Z,2026-11-19T16:00:00Z\n"
    upload = client.post(
        f"{API}/sessions/import/",
        {"file": SimpleUploadedFile("sessions.csv", csv.encode(), content_type="text/csv")},
        format="multipart",
    )
    assert upload.status_code == 201, upload.content[:300]
    plain = client.generic(
        "POST",
        f"{API}/sessions/import/",
        csv.replace("15:00", "17:00").replace("16:00", "18:00").encode(),
        content_type="text/csv",
    )
    assert plain.status_code == 201, plain.content[:300]
    before = row_counts()
    form = client.generic("POST", f"{API}/sessions/import/", **as_django(form_encoded({"file": csv})))
    assert_clean_refusal(form, 415, "detail", before)
