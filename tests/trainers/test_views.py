"""The people-and-time web pages: who may open which, and that they speak the API's words."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import ProjectFactory, SessionFactory, UserFactory
from trainers.models import LabellingSession, Role
from trainers.rules import DISCARDED_MESSAGE
from trainers.web import in_plain_words

CONTRACTOR_PAGES = [
    "trainers:sessions",
    "trainers:session-new",
    "trainers:session-import",
    "trainers:week-sessions",
]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)  # django-axes: login() would need a request
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("page", CONTRACTOR_PAGES)
@pytest.mark.parametrize(
    ("who", "status"),
    [("contractor_a", 200), ("manager_a", 403), ("finance", 403), ("admin", 403)],
)
def test_contractor_pages_open_for_contractors_only(world, page, who, status):
    # when
    response = signed_in(world.user(who)).get(reverse(page))
    # then
    assert response.status_code == status


@pytest.mark.django_db
@pytest.mark.parametrize("page", [*CONTRACTOR_PAGES, "trainers:home"])
def test_anonymous_visitors_are_sent_to_sign_in(client, page):
    # when
    response = client.get(reverse(page))
    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("trainers:sign-in"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "target"),
    [("manager_a", "/approvals/"), ("finance", "/finance/"), ("admin", "/finance/")],
)
def test_home_sends_each_role_to_its_start_page(world, who, target):
    # when
    response = signed_in(world.user(who)).get("/")
    # then
    assert response.status_code == 302 and response["Location"] == target


@pytest.mark.django_db
def test_contractor_home_shows_the_timer_and_the_week(world):
    # when
    response = signed_in(world.contractor_a).get("/")
    # then
    assert response.status_code == 200
    assert b'id="timer-start"' in response.content
    assert world.project_a.name.encode() in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["trainers:session-edit", "trainers:session-delete"])
def test_another_contractors_session_is_not_found(world, page):
    # given contractor A2 is on A's team and project, but the session is A's
    url = reverse(page, args=[world.session_a.pk])
    # when
    response = signed_in(world.contractor_a2).get(url)
    # then
    assert response.status_code == 404


@pytest.mark.django_db
def test_timer_starts_and_stops_through_htmx(world):
    # given
    client = signed_in(world.contractor_a)
    # when
    started = client.post(
        reverse("trainers:timer-start"),
        {"project": world.project_a.pk, "notes": "batch 7"},
        HTTP_HX_REQUEST="true",
    )
    running = LabellingSession.objects.get(worker=world.worker_a, ended_at__isnull=True)
    running.started_at -= timedelta(minutes=5)
    running.save()
    stopped = client.post(
        reverse("trainers:timer-stop", args=[running.pk]), {"task_count": "3"}, HTTP_HX_REQUEST="true"
    )
    # then
    assert b'id="timer-stop"' in started.content and b"Timer started on" in started.content
    assert started["HX-Trigger"] == '{"sessions-changed": {}}'
    assert b'id="timer-start"' in stopped.content and b"Timer stopped after 0:05:00" in stopped.content
    running.refresh_from_db()
    assert running.ended_at is not None and running.task_count == 3


@pytest.mark.django_db
def test_after_a_stop_the_start_form_keeps_the_last_project_and_activity(world):
    # given contractor A on two projects, timing the second (listed last) as review
    second = ProjectFactory(name="Zeta project", workers=[world.worker_a])
    client = signed_in(world.contractor_a)
    start = {"project": second.pk, "activity": "review"}
    client.post(reverse("trainers:timer-start"), start, HTTP_HX_REQUEST="true")
    running = LabellingSession.objects.get(worker=world.worker_a, ended_at__isnull=True)
    running.started_at -= timedelta(minutes=5)
    running.save()
    # when
    stopped = client.post(reverse("trainers:timer-stop", args=[running.pk]), {}, HTTP_HX_REQUEST="true")
    # then the next timer starts on the same project and activity unless changed
    page = stopped.content.decode()
    assert f'<option value="{second.pk}" selected>Zeta project (Acme AI)</option>' in page
    assert '<option value="review" selected>Review</option>' in page


@pytest.mark.django_db
def test_a_timer_stopped_in_its_first_second_is_discarded_with_the_api_message(world, frozen_now):
    # given a timer started at this very instant
    client = signed_in(world.contractor_a)
    client.post(reverse("trainers:timer-start"), {"project": world.project_a.pk}, HTTP_HX_REQUEST="true")
    running = LabellingSession.objects.get(worker=world.worker_a, ended_at__isnull=True)
    # when it is stopped in the same second
    stopped = client.post(
        reverse("trainers:timer-stop", args=[running.pk]), {"task_count": ""}, HTTP_HX_REQUEST="true"
    )
    # then the start form is back, the page says why, and nothing was recorded
    assert b'id="timer-start"' in stopped.content and DISCARDED_MESSAGE in stopped.content.decode()
    assert stopped["HX-Trigger"] == '{"sessions-changed": {}}'
    assert not LabellingSession.objects.filter(pk=running.pk).exists()


@pytest.mark.django_db
def test_a_second_timer_is_refused_with_the_api_message(world):
    # given
    client = signed_in(world.contractor_a)
    client.post(reverse("trainers:timer-start"), {"project": world.project_a.pk}, HTTP_HX_REQUEST="true")
    # when
    response = client.post(
        reverse("trainers:timer-start"), {"project": world.project_a.pk}, HTTP_HX_REQUEST="true"
    )
    # then
    assert b"has been running since" in response.content and b"stop it first." in response.content
    assert LabellingSession.objects.filter(worker=world.worker_a, ended_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_manual_session_with_end_before_start_shows_the_api_message(world):
    # given
    start = (timezone.now() - timedelta(days=1)).astimezone(world.worker_a.zone)
    form = {
        "project": world.project_a.pk,
        "started_at": start.strftime("%Y-%m-%dT%H:%M:%S"),
        "ended_at": (start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
        "task_count": 0,
    }
    # when
    response = signed_in(world.contractor_a).post(reverse("trainers:session-new"), form)
    # then nothing is written, and the API's rule reads in plain words (no field names)
    assert response.status_code == 200
    assert "Must be after the start (sessions last at least 1 s)." in response.content.decode()
    assert "started_at" not in response.content.decode().split("<form", 1)[0]
    assert LabellingSession.objects.filter(worker=world.worker_a).count() == 1


@pytest.mark.django_db
def test_manual_session_times_are_read_in_the_workers_zone(world):
    # given 09:00-10:30 on a past day in America/Chicago (UTC-6 in November)
    form = {"project": world.project_a.pk, "started_at": "2026-11-10T09:00", "ended_at": "2026-11-10T10:30"}
    # when
    response = signed_in(world.contractor_a).post(reverse("trainers:session-new"), {**form, "task_count": 4})
    # then
    assert response.status_code == 302
    made = LabellingSession.objects.get(worker=world.worker_a, task_count=4)
    assert made.started_at.isoformat() == "2026-11-10T15:00:00+00:00"
    assert made.duration_seconds == 5400


@pytest.mark.django_db
def test_editing_and_deleting_a_session(world):
    # given
    client = signed_in(world.contractor_a)
    session = world.session_a
    form = {
        "project": world.project_a.pk,
        "started_at": "2026-11-02T09:00:00",
        "ended_at": "2026-11-02T12:00:00",
        "task_count": 9,
        "notes": "fixed",
    }
    # when
    edited = client.post(reverse("trainers:session-edit", args=[session.pk]), form, follow=True)
    deleted = client.post(reverse("trainers:session-delete", args=[session.pk]), follow=True)
    # then
    assert f"Session {session.pk} saved." in edited.content.decode()
    assert f"Session {session.pk} deleted." in deleted.content.decode()
    assert not LabellingSession.objects.filter(pk=session.pk).exists()


@pytest.mark.django_db
def test_locked_weeks_offer_no_edit(world, lock_period):
    # given
    lock_period(world.worker_a, world.session_a.period)
    # when
    response = signed_in(world.contractor_a).get(
        reverse("trainers:sessions") + f"?period={world.session_a.period}"
    )
    # then
    assert b"This week is locked" in response.content
    assert reverse("trainers:session-edit", args=[world.session_a.pk]).encode() not in response.content


@pytest.mark.django_db
def test_csv_import_lists_every_bad_row(world):
    # given
    csv = (
        "project,started_at,ended_at,task_count,notes\n"
        f"{world.project_a.pk},2026-11-03T09:00:00-06:00,2026-11-03T10:00:00-06:00,1,ok\n"
        f"{world.project_a.pk},2026-11-04T09:00:00-06:00,2026-11-04T08:00:00-06:00,1,backwards\n"
    ).encode()
    upload = SimpleUploadedFile("week.csv", csv, content_type="text/csv")
    # when
    response = signed_in(world.contractor_a).post(reverse("trainers:session-import"), {"file": upload})
    # then
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert '<td class="num">3</td><td>ended_at</td>' in page
    assert LabellingSession.objects.filter(worker=world.worker_a).count() == 1


@pytest.mark.django_db
def test_csv_import_of_a_good_file(world):
    # given
    csv = (
        "project,started_at,ended_at,task_count,notes\n"
        f"{world.project_a.pk},2026-11-03T09:00:00-06:00,2026-11-03T10:00:00-06:00,1,ok\n"
    ).encode()
    # when
    response = signed_in(world.contractor_a).post(
        reverse("trainers:session-import"), {"file": SimpleUploadedFile("w.csv", csv)}, follow=True
    )
    # then
    assert "Imported 1 session." in response.content.decode()


@pytest.mark.django_db
def test_sign_in_and_out_with_messages(world, client):
    # when
    signed = client.post(
        reverse("trainers:sign-in"),
        {"username": "contractor_a", "password": "correct-horse-battery"},
        follow=True,
    )
    out = client.post(reverse("trainers:sign-out"), follow=True)
    # then
    assert "Signed in as contractor_a." in signed.content.decode()
    assert "Signed out." in out.content.decode()
    assert out.redirect_chain[-1][0] == reverse("trainers:sign-in")


@pytest.mark.django_db
@pytest.mark.parametrize("length", [151, 256, 5000])
def test_a_username_too_long_for_any_account_is_a_form_error_not_a_500(world, client, length):
    # when
    response = client.post(reverse("trainers:sign-in"), {"username": "b" * length, "password": "x"})
    # then
    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()


@pytest.mark.django_db
def test_sign_in_locks_out_after_repeated_failures(world, client, settings):
    # given
    url = reverse("trainers:sign-in")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        failed = client.post(url, {"username": "contractor_a", "password": "wrong"})
        assert failed.status_code == 200
    # when
    locked = client.post(url, {"username": "contractor_a", "password": "wrong"})
    still = client.post(url, {"username": "contractor_a", "password": "correct-horse-battery"})
    # then
    assert locked.status_code == 429 and b"Too many failed login attempts" in locked.content
    assert still.status_code == 429


@pytest.mark.django_db
def test_nobody_without_a_worker_profile_gets_a_timer(world):
    # given a contractor-role user without a profile
    lone = UserFactory(username="lone", role=Role.CONTRACTOR)
    # when
    response = signed_in(lone).get(reverse("trainers:sessions"))
    # then
    assert response.status_code == 404


@pytest.mark.django_db
def test_next_links_stay_on_this_site(world):
    # given a crafted link to the edit page
    url = reverse("trainers:session-edit", args=[world.session_a.pk])
    # when
    response = signed_in(world.contractor_a).get(url, {"next": "javascript:alert(1)"})
    # then the Cancel link does not carry it
    assert b"javascript:" not in response.content


FALL_BACK = {
    "project": None,
    "started_at": "2026-11-01T01:10",
    "ended_at": "2026-11-01T01:50",
    "task_count": 3,
}


@pytest.mark.django_db
def test_a_time_in_the_repeated_hour_is_asked_about_not_guessed(world):
    # given 01:10-01:50 on the night Chicago's clocks go back (01:00-02:00 happens twice)
    form = {**FALL_BACK, "project": world.project_a.pk}
    # when
    response = signed_in(world.contractor_a).post(reverse("trainers:session-new"), form)
    # then nothing is written and the page asks which 01:10 and which 01:50
    page = response.content.decode()
    assert response.status_code == 200
    assert "01:10 happens twice that night in America/Chicago" in page
    assert '<select name="started_at_fold"' in page and '<select name="ended_at_fold"' in page
    assert not LabellingSession.objects.filter(worker=world.worker_a, task_count=3).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start_fold", "end_fold", "started_utc", "seconds"),
    [
        ("0", "0", "2026-11-01T06:10:00+00:00", 40 * 60),  # both in daylight time (UTC-5)
        ("1", "1", "2026-11-01T07:10:00+00:00", 40 * 60),  # both in standard time (UTC-6)
        ("0", "1", "2026-11-01T06:10:00+00:00", 100 * 60),  # across the change: 1 h 40 of real time
    ],
)
def test_the_chosen_occurrence_gives_the_real_instants(world, start_fold, end_fold, started_utc, seconds):
    # given
    form = {
        **FALL_BACK,
        "project": world.project_a.pk,
        "started_at_fold": start_fold,
        "ended_at_fold": end_fold,
    }
    # when
    response = signed_in(world.contractor_a).post(reverse("trainers:session-new"), form)
    # then
    assert response.status_code == 302
    made = LabellingSession.objects.get(worker=world.worker_a, task_count=3)
    assert (made.started_at.isoformat(), made.duration_seconds) == (started_utc, seconds)


@pytest.mark.django_db
def test_a_time_the_clocks_skip_is_refused_with_the_reason(world):
    # given 02:30 on the night Chicago's clocks go forward (02:00 becomes 03:00)
    form = {
        **FALL_BACK,
        "project": world.project_a.pk,
        "started_at": "2026-03-08T02:30",
        "ended_at": "2026-03-08T04:00",
    }
    # when
    response = signed_in(world.contractor_a).post(reverse("trainers:session-new"), form)
    # then
    assert "02:30 does not exist on that day in America/Chicago" in response.content.decode()
    assert not LabellingSession.objects.filter(worker=world.worker_a, task_count=3).exists()


@pytest.mark.django_db
def test_editing_the_notes_of_a_second_occurrence_session_keeps_its_instants(world):
    # given a session logged (through the API) from 01:10 to 01:50 CST, the second 01:00-02:00
    session = SessionFactory(
        worker=world.worker_a,
        project=world.project_a,
        started_at=datetime(2026, 11, 1, 7, 10, tzinfo=UTC),
        ended_at=datetime(2026, 11, 1, 7, 50, tzinfo=UTC),
    )
    form = {**FALL_BACK, "project": world.project_a.pk, "task_count": 0, "notes": "checked"}
    # when only the notes change in the form (the times show as the wall clock showed them)
    response = signed_in(world.contractor_a).post(reverse("trainers:session-edit", args=[session.pk]), form)
    # then the instants stay as they were
    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.started_at, session.ended_at, session.notes) == (
        datetime(2026, 11, 1, 7, 10, tzinfo=UTC),
        datetime(2026, 11, 1, 7, 50, tzinfo=UTC),
        "checked",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "field", "value", "words"),
    [
        (
            "contractor_a",
            "started_at",
            "9999-12-31T23:00:00",
            "May not be more than 5 minutes in the future.",
        ),
        ("contractor_a", "ended_at", "9999-12-31T23:59:59", "May not be more than 5 minutes in the future."),
        ("contractor_b", "started_at", "0001-01-01T00:00", "Must be on or after 2000-01-04."),  # Kolkata
    ],
)
def test_times_at_the_ends_of_the_calendar_get_the_apis_words_not_a_500(world, who, field, value, words):
    # given
    form = {**FALL_BACK, "project": world.project_a.pk if who == "contractor_a" else world.project_b.pk}
    form[field] = value
    # when
    response = signed_in(getattr(world, who)).post(reverse("trainers:session-new"), form)
    # then
    assert response.status_code == 200
    assert words in response.content.decode()


@pytest.mark.django_db
def test_stopping_the_timer_with_no_task_count_is_fine(world):
    # given a running timer
    client = signed_in(world.contractor_a)
    client.post(reverse("trainers:timer-start"), {"project": world.project_a.pk})
    running = LabellingSession.objects.get(worker=world.worker_a, ended_at__isnull=True)
    running.started_at -= timedelta(minutes=5)
    running.save()
    # when it is stopped with the optional task count left empty
    client.post(reverse("trainers:timer-stop", args=[running.pk]), {"task_count": ""})
    # then it stopped
    running.refresh_from_db()
    assert running.ended_at is not None


@pytest.mark.django_db
def test_times_in_the_repeated_hour_are_listed_with_their_zone_name(world):
    # given 01:10 CDT to 01:50 CST on Chicago's fall-back night (100 minutes of real time)
    SessionFactory(
        worker=world.worker_a,
        project=world.project_a,
        started_at=datetime(2026, 11, 1, 6, 10, tzinfo=UTC),
        ended_at=datetime(2026, 11, 1, 7, 50, tzinfo=UTC),
        notes="fold night",
    )
    # when the contractor lists that week
    page = signed_in(world.contractor_a).get(reverse("trainers:sessions"), {"period": "2026-W44"})
    ordinary = signed_in(world.contractor_a).get(reverse("trainers:sessions"), {"period": "2026-W45"})
    # then both times carry their zone's name; an ordinary time (the world's Monday 09:00) does not
    text = page.content.decode()
    assert "Sun 1 Nov 01:10 CDT" in text and "01:50 CST" in text
    assert "Mon 2 Nov 09:00</td>" in ordinary.content.decode()


def test_in_plain_words_replaces_api_field_names_and_nothing_else():
    # when / then
    assert in_plain_words("Must be after started_at (sessions last at least 1 s).") == (
        "Must be after the start (sessions last at least 1 s)."
    )
    assert in_plain_words("ended_at_fold and restarted_at stay; period_to goes.") == (
        "ended_at_fold and restarted_at stay; the last week goes."
    )


@pytest.mark.django_db
def test_the_reports_form_picks_weeks_from_the_browsers_week_picker(world):
    # when
    page = signed_in(world.finance).get(reverse("payroll:reports")).content.decode()
    # then the week fields are week inputs (a calendar in the browser), the key their value
    assert 'type="week" name="period_from"' in page and 'type="week" name="period_to"' in page
