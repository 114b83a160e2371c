"""What Fairhour tells people: reminder and forgotten-timer mails, the payout CSV, the pay
report files and the invoice PDF, read as their recipients read them.

Mail rules: docs/architecture.md "Beat's schedule" (one mail per timesheet and stage, to the
contractor or the team's managers, linking to pages on SITE_URL). File rules: docs/api.md
(payout columns, export columns and typed cells, formula neutralising) and PAY_RULES §7
(invoice figures, parties as at issue). These tests cover what the module tests do not.
"""

import csv
import io
import shutil
import subprocess
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.test import Client
from openpyxl import load_workbook

from payroll.models import Adjustment, Invoice, Timesheet, TimesheetStatus
from payroll.services.close import timesheets_refresh
from payroll.services.exports import export_start, report_export
from payroll.services.invoice_documents import invoice_pdf_bytes
from payroll.services.invoice_payments import invoice_pay, invoice_void
from payroll.services.invoices import invoice_issue
from payroll.services.reminders import STAGE_APPROVE, reminders_send
from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import RateFactory, SessionFactory
from tests.payroll.test_services_invoices import approved_timesheet
from trainers.models import SessionSource, User
from trainers.services.forgotten_timers import forgotten_timers_stop

pytestmark = pytest.mark.django_db
PERIOD = "2026-W45"  # Mon 2 Nov to Sun 8 Nov 2026; over everywhere by Mon 9 Nov 12:00 UTC
AFTER = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
TIMER_START = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
SITE = "https://fairhour.example"
PDFTOTEXT = shutil.which("pdftotext")


@pytest.fixture
def sheets(world) -> dict[str, Timesheet]:
    """Open W45 timesheets of a, a2 (team A) and b (team B): 2 h at 15.00 each."""
    workers = {"a": world.worker_a, "a2": world.worker_a2, "b": world.worker_b}
    for worker in workers.values():
        RateFactory(worker=worker)
    timesheets_refresh(workers=workers.values(), period=PERIOD)
    return {name: Timesheet.objects.get(worker=worker, period=PERIOD) for name, worker in workers.items()}


@pytest.fixture
def memory_storage(settings) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }


def submit(timesheet: Timesheet) -> None:
    """Mark submitted (lines and total are stored already); the state machine is tested elsewhere."""
    Timesheet.objects.filter(pk=timesheet.pk).update(status=TimesheetStatus.SUBMITTED, submitted_at=AFTER)


def link_in(body: str) -> str:
    return next(word for word in body.split() if word.startswith("http"))


def opened_by(user: User, url: str) -> int:
    """The status the recipient gets following the mail's link, signed in on the site."""
    client = Client()
    client.force_login(user)
    return client.get(url.removeprefix(SITE)).status_code


def running_timer(worker, project):
    return SessionFactory(
        worker=worker, project=project, started_at=TIMER_START, ended_at=None, source=SessionSource.TIMER
    )


# Mails ---------------------------------------------------------------------------------


def test_every_mail_links_absolutely_to_a_page_its_recipient_can_open(world, sheets, settings):
    """Mails link to Fairhour's pages on SITE_URL (docs/deployment.md). Followed as the
    recipient, the submit link (contractor), the approve link (manager) and the forgotten-timer link
    (contractor) each open with 200, not a 403 or 404."""
    # given
    settings.SITE_URL = SITE
    submit(sheets["a"])
    running_timer(world.worker_b, world.project_b)
    # when
    reminders_send(now=AFTER)
    forgotten_timers_stop(now=TIMER_START + timedelta(hours=17))
    # then a2 and b asked to submit, manager_a to approve a's, b told of the timer
    assert len(mail.outbox) == 4
    for message in mail.outbox:
        recipient = User.objects.get(email=message.to[0])
        url = link_in(message.body)
        assert url.startswith(f"{SITE}/"), url
        assert opened_by(recipient, url) == 200, (message.subject, recipient.username, url)


def test_names_with_html_and_unicode_reach_the_plain_text_mail_as_typed(world, sheets):
    """Plain-text mails: a name with markup or accents is shown verbatim (not escaped, not
    mangled) in the subject and body, with no HTML part; the mail stays one line of subject."""
    # given
    world.worker_a.full_name = "Zoë <b>Ng</b> & Co — 日本"
    world.worker_a.save()
    submit(sheets["a"])
    # when
    reminders_send(now=AFTER)
    # then
    message = next(m for m in mail.outbox if m.to == [world.manager_a.email])
    assert message.subject == f"Timesheet to approve: Zoë <b>Ng</b> & Co — 日本, {PERIOD}"
    assert "Zoë <b>Ng</b> & Co — 日本 submitted the timesheet" in message.body
    assert getattr(message, "alternatives", []) == []
    assert message.message()["Subject"]  # encodes without error


def test_a_newline_in_a_worker_name_breaks_neither_the_subject_nor_other_reminders(world, sheets, client_for):
    """Subjects are plain one-line text (no header injection) and one bad row does not stop
    the other reminders of the run."""
    # given a name with CR/LF, saved through the API (it is accepted), and two submitted sheets
    response = client_for(world.admin).patch(
        f"/api/v1/workers/{world.worker_a.pk}/", {"full_name": "Eve\r\nBcc: x@evil.example"}, format="json"
    )
    assert response.status_code == 200
    submit(sheets["a"])
    submit(sheets["a2"])
    # when
    counts = reminders_send(now=AFTER)
    # then both go to manager_a, each subject a single line without the injected header
    assert counts[STAGE_APPROVE] == 2
    approve = [m for m in mail.outbox if m.to == [world.manager_a.email]]
    assert len(approve) == 2
    for message in approve:
        assert "\r" not in message.subject and "\n" not in message.subject
        assert "Bcc" not in message.message()


def test_a_deactivated_contractor_gets_no_forgotten_timer_mail(world):
    """Like the reminders (tested there), Fairhour mails no deactivated user; the timer still stops."""
    # given
    timer = running_timer(world.worker_b, world.project_b)
    world.contractor_b.is_active = False
    world.contractor_b.save()
    # when
    counts = forgotten_timers_stop(now=TIMER_START + timedelta(hours=17))
    # then stopped at 16 h, but nobody mailed
    timer.refresh_from_db()
    assert counts["stopped"] == 1
    assert timer.ended_at == TIMER_START + timedelta(hours=16)
    assert mail.outbox == [], [
        (m.to, link_in(m.body), opened_by(world.contractor_b, link_in(m.body))) for m in mail.outbox
    ]


def test_the_forgotten_timer_mail_gives_local_times_with_the_zone_named(world):
    """Times in the recipient's zone, the zone named: Kolkata is UTC+05:30."""
    # given
    running_timer(world.worker_b, world.project_b)
    # when
    forgotten_timers_stop(now=TIMER_START + timedelta(hours=17))
    # then 15:00 UTC = 20:30 IST; +16 h = 12:30 next day
    (message,) = mail.outbox
    assert message.to == [world.worker_b.email]
    assert "started Mon 16 Nov 2026 20:30, stopped Tue 17 Nov 2026 12:30 (Asia/Kolkata)" in message.body


def test_an_empty_open_week_is_reminded_with_a_two_decimal_zero_and_its_currency(world):
    """Amounts in mails: two decimals beside the currency, also for a week with no time."""
    # given an ended week with no sessions at all, whose timesheet the contractor opened
    timesheet_get_or_create(worker=world.worker_b, period="2026-W44")
    # when
    reminders_send(now=AFTER)
    # then
    (message,) = [m for m in mail.outbox if "2026-W44" in m.subject]
    assert "Total so far: 0.00 USD." in message.body


# Payout CSV ------------------------------------------------------------------------------


def test_the_payout_csv_has_a_row_per_unpaid_invoice_with_exact_amounts_in_its_currency(
    world, frozen_now, client_for
):
    """docs/api.md payout: columns worker, email, amount, currency, invoice_number, reference;
    only issued invoices (paid and void left out); amounts to the cent in each row's own
    currency; UTF-8 (no BOM, as bank bulk uploads take it) with CRLF rows (RFC 4180); a name
    with a comma, quote and newline stays one quoted cell."""
    # given a (USD, 30.67), a2 (USD, voided) and b (EUR, 25.00)
    world.worker_b.currency = "EUR"
    world.worker_b.full_name = 'Łukasz "Luke", Ng\nJr'
    world.worker_b.save()
    RateFactory(worker=world.worker_a, hourly_rate=Decimal("15.3333"))
    RateFactory(worker=world.worker_a2, hourly_rate=Decimal("20.00"))
    RateFactory(worker=world.worker_b, hourly_rate=Decimal("12.50"))
    usd, _ = invoice_issue(timesheet=approved_timesheet(world))
    void, _ = invoice_issue(timesheet=approved_timesheet(world, world.worker_a2))
    invoice_void(actor=world.finance, invoice=void, reason="Duplicate")
    eur, _ = invoice_issue(timesheet=approved_timesheet(world, world.worker_b, world.manager_b))
    # when
    response = client_for(world.finance).get(f"/api/v1/invoices/payout/?period={PERIOD}")
    # then
    assert response.status_code == 200
    raw = response.content
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") == 3  # header and two rows; the LF inside the quoted name stays bare
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert rows == [
        ["worker", "email", "amount", "currency", "invoice_number", "reference"],
        [
            "Worker contractor_a",
            world.worker_a.email,
            "30.67",
            "USD",
            usd.number,
            f"Fairhour {usd.number} {PERIOD}",
        ],
        [
            'Łukasz "Luke", Ng\nJr',
            world.worker_b.email,
            "25.00",
            "EUR",
            eur.number,
            f"Fairhour {eur.number} {PERIOD}",
        ],
    ]
    assert [Decimal(row[2]) for row in rows[1:]] == [usd.total, eur.total]
    # paying one takes it off the file
    invoice_pay(actor=world.finance, invoice=usd, paid_on=date(2026, 11, 20), payment_reference="T-9")
    again = client_for(world.finance).get(f"/api/v1/invoices/payout/?period={PERIOD}").content.decode()
    assert usd.number not in again and eur.number in again


# Pay report files ----------------------------------------------------------------------


def test_report_files_add_decimals_exactly_with_no_float_artefacts(world, frozen_now, memory_storage):
    """docs/api.md exports: money is summed as decimals (0.10 + 0.20 is 0.30, not
    0.30000000000000004) and written so: text "0.30" in CSV, a number cell 0.3 formatted
    0.00 in XLSX; the team row is one currency, never a sum across currencies."""
    # given a (2 h at 0.05 = 0.10) and a2 (2 h at 0.10 = 0.20), both team A, both USD
    RateFactory(worker=world.worker_a, hourly_rate=Decimal("0.05"))
    RateFactory(worker=world.worker_a2, hourly_rate=Decimal("0.10"))
    world.worker_b.currency = "EUR"
    world.worker_b.save()
    RateFactory(worker=world.worker_b, hourly_rate=Decimal("0.10"))
    for worker in (world.worker_a, world.worker_a2, world.worker_b):
        timesheet_get_or_create(worker=worker, period=PERIOD)
    params = {"period_from": PERIOD, "period_to": PERIOD, "group_by": "team"}
    files = {}
    for file_format in ("csv", "xlsx"):
        job, _ = export_start(actor=world.finance, report="pay", params=params, file_format=file_format)
        report_export(job_id=job.pk)
        job.refresh_from_db()
        with default_storage.open(job.result["file"], "rb") as stored:
            files[file_format] = stored.read()
    # then
    rows = list(csv.reader(io.StringIO(files["csv"].decode("utf-8"))))
    assert rows[1:] == [
        # tasks, top-ups, adjustments, amount, effective hourly (0.30 for 4 h: 0.075 -> 0.08)
        [
            str(world.team_a.pk),
            "Team A",
            "USD",
            "14400",
            "4:00:00",
            "4.00",
            "0",
            "0.00",
            "0.00",
            "0.30",
            "0.08",
        ],
        [
            str(world.team_b.pk),
            "Team B",
            "EUR",
            "7200",
            "2:00:00",
            "2.00",
            "0",
            "0.00",
            "0.00",
            "0.20",
            "0.10",
        ],
    ]
    sheet = zipfile.ZipFile(io.BytesIO(files["xlsx"])).read("xl/worksheets/sheet1.xml").decode()
    assert "<v>0.3</v>" in sheet and "0000000" not in sheet
    cells = list(load_workbook(io.BytesIO(files["xlsx"])).active.iter_rows(min_row=2))
    amount = cells[0][-2]
    assert (amount.data_type, Decimal(str(amount.value)), amount.number_format) == (
        "n",
        Decimal("0.3"),
        "0.00",
    )


# Invoice PDF ---------------------------------------------------------------------------


def pdf_text(content: bytes) -> str:
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: cannot read the PDF's text")
    result = subprocess.run(  # noqa: S603 - a fixed local binary, our own bytes
        [PDFTOTEXT, "-layout", "-", "-"], input=content, capture_output=True, check=True
    )
    return " ".join(result.stdout.decode().split())


def test_the_pdf_prints_the_stored_figures_and_the_parties_as_at_issue(
    world, frozen_now, settings, memory_storage
):
    """PAY_RULES §7 and docs/api.md invoices: every figure is the stored invoice's; each timed
    line shows h:mm:ss and decimal hours; an adjustment is its own line; tax once on the
    subtotal; company and contractor come from the snapshot even after settings and the
    worker change; markup in names prints literally."""
    # given b in EUR with 7.5 % tax, 2:20:10 at 1234.5678 and a -50.00 adjustment
    world.worker_b.currency = "EUR"
    world.worker_b.full_name = "Zoë <b>Ng</b> & Co"
    world.worker_b.tax_rate = Decimal("0.0750")
    world.worker_b.save()
    RateFactory(worker=world.worker_b, hourly_rate=Decimal("1234.5678"))
    SessionFactory(
        worker=world.worker_b,
        project=world.project_b,
        started_at=datetime(2026, 11, 3, 1, 0, tzinfo=UTC),
        ended_at=datetime(2026, 11, 3, 1, 20, 10, tzinfo=UTC),
    )
    Adjustment.objects.create(
        worker=world.worker_b,
        amount=Decimal("-50.00"),
        currency="EUR",
        reason="Clawback",
        applies_to_period=PERIOD,
        created_by=world.finance,
    )
    invoice, _ = invoice_issue(timesheet=approved_timesheet(world, world.worker_b, world.manager_b))
    # 8,410 s x 1234.5678 / 3600 = 2884.0873 -> 2884.09; -50.00; tax 2834.09 x 0.075 = 212.55675
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        Decimal("2834.09"),
        Decimal("212.56"),
        Decimal("3046.65"),
    )
    settings.COMPANY_NAME = "Renamed Holdings"
    world.worker_b.full_name = "Renamed Later"
    world.worker_b.save()
    # when
    text = pdf_text(invoice_pdf_bytes(Invoice.objects.get(pk=invoice.pk)))
    # then
    for expected in (
        f"Invoice {invoice.number}",
        "Days 2026-11-02 to 2026-11-08",  # the contractor's (Kolkata) week
        "Currency EUR",
        "Zoë <b>Ng</b> & Co",
        world.worker_b.email,
        "Team: Team B",
        invoice.company["name"],
        "2:20:10 2.34 1234.5678 1.00 2884.09",
        "Adjustment: Clawback -50.00",
        "Subtotal 2834.09 EUR",
        "Tax (7.5 %) 212.56 EUR",
        "Total 3046.65 EUR",
    ):
        assert expected in text, (expected, text)
    assert "Renamed" not in text
    for line in invoice.lines.all():
        assert f"{line.amount:f}" in text
