"""The project as a new user meets it: settings, demo data, admin, API docs."""

import gc
from datetime import UTC, datetime
from pathlib import Path

import pytest
from celery.signals import worker_process_init
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from payroll.models import Timesheet
from payroll.selectors.timesheets import timesheet_figures
from tests.processes import run_python
from trainers.models import LabellingSession, Role, User, Worker

ROOT = Path(__file__).resolve().parent.parent


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = run_python("import django; django.setup()", DEBUG="false", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_zero_setup_default_is_the_embedded_postgres_and_redis():
    code = (
        "from django.conf import settings as s; import django; django.setup();"
        "from django.db import connection; connection.ensure_connection();"
        "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['HOST'],"
        " s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL)"
    )
    result = run_python(code, DEBUG="true")
    engine, host, eager, broker = result.stdout.split()
    assert (engine, eager) == ("django.db.backends.postgresql", "False"), result.stderr
    assert host.startswith("/")  # the checkout's own server, on its Unix socket
    assert broker.startswith("redis+socket:///") and broker.endswith("/redis.sock")


def test_a_database_url_that_is_not_postgresql_is_refused():
    result = run_python("import django; django.setup()", DEBUG="true", DATABASE_URL="sqlite:///db.sqlite3")
    assert result.returncode != 0
    assert "DATABASE_URL must name a PostgreSQL server" in result.stderr


def test_environment_switches_on_postgres_and_redis():
    code = (
        "from django.conf import settings as s; import django; django.setup();"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL)"
    )
    result = run_python(
        code,
        SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://u@127.0.0.1:5432/db",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.stdout.split() == ["django.db.backends.postgresql", "False", "redis://127.0.0.1:6379/0"]


def test_job_and_broker_timeouts_default_and_can_be_overridden():
    code = (
        "from django.conf import settings as s; import django; django.setup();"
        "print(s.JOB_CHUNK_SIZE, s.JOB_CHUNK_MAX_ATTEMPTS, s.CELERY_TASK_TIME_LIMIT,"
        " s.CELERY_TASK_SOFT_TIME_LIMIT, *s.CELERY_BROKER_TRANSPORT_OPTIONS.values())"
    )
    # defaults: a 30-min hard limit; a 30-s visibility timeout, renewed by the workers for
    # what they hold, looked for every second with a 7-s restore mutex
    defaults = run_python(code, DEBUG="true").stdout.split()
    assert defaults == ["2000", "5", "1800", "1740", "30", "1", "1", "7"]
    # a short broker timeout for tests: expired deliveries looked for every second, and the
    # mutex of a worker killed while looking expires in seconds, not minutes
    short = run_python(
        code, DEBUG="true", JOB_CHUNK_SIZE="250", CELERY_TASK_TIME_LIMIT="10", CELERY_VISIBILITY_TIMEOUT="12"
    )
    assert short.stdout.split() == ["250", "5", "10", "9", "12", "1", "1", "5"], short.stderr


def test_a_visibility_timeout_too_short_to_renew_is_refused():
    # workers renew the messages they hold every third of it
    result = run_python("import django; django.setup()", DEBUG="true", CELERY_VISIBILITY_TIMEOUT="5")
    assert result.returncode != 0
    assert "CELERY_VISIBILITY_TIMEOUT (5 s) must be at least 6 s" in result.stderr


@pytest.mark.django_db
def test_seed_demo_is_complete_and_idempotent(capsys):
    # when run twice
    call_command("seed_demo")
    call_command("seed_demo")
    # then the people of the issue exist once, with a week of sessions each
    out = capsys.readouterr().out
    assert "carlos" in out and "fairhour-demo" in out
    roles = sorted(User.objects.values_list("role", flat=True))
    assert roles.count(Role.CONTRACTOR) == 4
    assert {Role.MANAGER, Role.FINANCE, Role.ADMIN} <= set(roles)
    carlos = Worker.objects.get(user__username="carlos")
    assert (carlos.time_zone, carlos.currency, str(carlos.rates.get(project=None).hourly_rate)) == (
        "America/Chicago",
        "USD",
        "15.0000",
    )
    assert LabellingSession.objects.filter(worker=carlos).count() == 10
    assert User.objects.get(username="carlos").check_password("fairhour-demo")
    # logged as they were worked: no late entries, so the approval queue can bulk-approve
    priya = Timesheet.objects.get(worker__user__username="priya", status="submitted")
    assert "late_entry" not in {problem.code for problem in timesheet_figures(priya).problems}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/admin/trainers/user/",
        "/admin/trainers/team/",
        "/admin/trainers/worker/",
        "/admin/trainers/project/",
        "/admin/trainers/labellingsession/",
        "/admin/payroll/rate/",
    ],
)
def test_admin_lists_every_model(world, path):
    client = Client()
    client.force_login(world.admin)
    assert client.get(path).status_code == 200


@pytest.mark.django_db
def test_admin_shows_session_history(world):
    client = Client()
    client.force_login(world.admin)
    response = client.get(f"/admin/trainers/labellingsession/{world.session_a.pk}/history/")
    assert response.status_code == 200


@pytest.mark.django_db
def test_openapi_schema_and_offline_swagger_ui():
    client = Client()
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/sessions/",
        "/api/v1/sessions/start/",
        "/api/v1/sessions/{id}/stop/",
        "/api/v1/sessions/import/",
        "/api/v1/rates/",
        "/api/v1/me/",
        "/api/v1/auth/token/",
    ):
        assert path in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "drf_spectacular_sidecar" in html or "swagger-ui" in html
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html


@pytest.mark.django_db
def test_seed_demo_puts_every_contractor_in_one_week_even_near_midnight_utc(monkeypatch):
    # given a Monday 02:30 UTC: still Sunday in Chicago, already Monday in Kolkata
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 11, 30, 2, 30, tzinfo=UTC))
    # when the demo is seeded
    call_command("seed_demo")
    # then every contractor's last week is the same, finished ISO week (and only Lena, whose
    # invoiced week the web pages show, has the week before)
    sessions = LabellingSession.objects.select_related("worker__user")
    weeks = {(session.worker.user.username, session.period) for session in sessions}
    assert weeks == {
        ("carlos", "2026-W48"),
        ("priya", "2026-W48"),
        ("lena", "2026-W48"),
        ("lena", "2026-W47"),
        ("tomas", "2026-W48"),
    }


@pytest.mark.django_db
def test_seed_demo_shows_piece_work_topped_up_to_the_floor_and_activities_at_their_own_rate():
    # when
    call_command("seed_demo")
    # then Tomás's slow week of ranking, training and guideline reading meets his floor
    from payroll.services.timesheets import timesheet_get_or_create

    tomas = Worker.objects.get(user__username="tomas")
    period = LabellingSession.objects.filter(worker=tomas).first().period
    timesheet, _ = timesheet_get_or_create(worker=tomas, period=period)
    figures = timesheet_figures(timesheet)
    lines = [(line.activity, line.kind, line.seconds, line.units, str(line.amount)) for line in figures.lines]
    assert lines == [
        ("labelling", "regular", 6 * 3600, 0, "0.00"),
        ("labelling", "tasks", 0, 115, "40.25"),
        ("guidelines", "regular", 3600, 0, "14.00"),
        ("training", "regular", 5400, 0, "21.00"),
        (None, "top_up", 30600, 0, "52.25"),
    ]
    assert str(figures.total) == "127.50"
    assert "fair_pay_top_up" in {problem.code for problem in figures.problems}


@pytest.mark.django_db
def test_seed_demo_gives_the_web_pages_timesheets_in_every_state():
    # when
    call_command("seed_demo")
    call_command("seed_demo")
    # then the approval queue, finance's invoicing and the invoices list all have something
    from payroll.models import Invoice, Timesheet

    states = sorted(Timesheet.objects.values_list("worker__user__username", "status"))
    assert states == [
        ("carlos", "open"),  # every week with time has its timesheet, before any close
        ("lena", "approved"),
        ("lena", "invoiced"),
        ("priya", "submitted"),
        ("tomas", "open"),
    ]
    assert Invoice.objects.count() == 1


def test_a_worker_process_leaves_its_start_up_objects_out_of_the_collectors_scans():
    # given a worker process starting (Celery sends worker_process_init)
    try:
        # when
        worker_process_init.send(sender=None)

        # then what exists now is frozen: full collections no longer walk it
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


@pytest.mark.django_db
def test_createsuperuser_makes_an_administrator_of_fairhour():
    # when an operator makes the first user, as Django's docs say
    call_command("createsuperuser", interactive=False, username="ops", email="ops@example.com", verbosity=0)
    # then that user administers Fairhour (role) and Django (admin rights) alike
    ops = User.objects.get(username="ops")
    assert (ops.role, ops.is_staff, ops.is_superuser) == (Role.ADMIN, True, True)


def test_each_log_line_is_printed_once():
    # Django's DEBUG console handler and the root's both printed a request's warning
    code = "import django, logging; django.setup(); logging.getLogger('django.request').warning('%s')"
    code %= "Not Found: /x/"
    result = run_python(code, DEBUG="true")
    assert result.stderr.count("Not Found: /x/") == 1, result.stderr
