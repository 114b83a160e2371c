"""The database as the backstop: forbidden states written past the services are refused.

Each case writes one forbidden state straight through the ORM (no service, no validation)
and expects PostgreSQL to refuse it, naming the constraint. Cases marked xfail are rules
the database does not hold yet although a constraint could; the reason names it. Rules
already pinned elsewhere (end before start, overlap, two running timers, whole seconds
and the 24 h ceiling on starts, duplicate invoice numbers) are not repeated here.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import DataError, IntegrityError, connection, models, transaction
from django.db.models import F

from payroll.models import (
    Adjustment,
    Invoice,
    InvoiceLine,
    Job,
    JobChunk,
    Rate,
    ReminderSent,
    Timesheet,
    TimesheetEvent,
    TimesheetLine,
)
from tests.factories import ProjectFactory, RateFactory, SessionFactory, UserFactory, WorkerFactory
from trainers.models import LabellingSession, Project, Role, User, Worker

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
PERIOD = "2026-W45"  # America/Chicago: Monday 2026-11-02 06:00 UTC to 2026-11-09 06:00 UTC
REFUSED = (IntegrityError, DataError)


@dataclass
class Scene:
    """One invoiced week of one worker, with every kind of row, all valid."""

    user: User
    worker: Worker
    project: Project
    session: LabellingSession
    rate: Rate
    timesheet: Timesheet
    line: TimesheetLine
    invoice: Invoice
    invoice_line: InvoiceLine
    adjustment: Adjustment
    job: Job


@pytest.fixture
def scene() -> Scene:
    user = UserFactory(role=Role.FINANCE)
    worker = WorkerFactory()
    project = ProjectFactory(workers=[worker])
    timesheet = Timesheet.objects.create(
        worker=worker,
        period=PERIOD,
        period_start=datetime(2026, 11, 2, 6, tzinfo=UTC),
        period_end=datetime(2026, 11, 9, 6, tzinfo=UTC),
        status="invoiced",
        currency="USD",
        total=Decimal("30.00"),
        submitted_at=datetime(2026, 11, 9, 8, tzinfo=UTC),
        decided_at=datetime(2026, 11, 9, 9, tzinfo=UTC),
        decided_by=user,
    )
    figures = {"kind": "regular", "hourly_rate": Decimal("15.0000"), "multiplier": Decimal("1.00")}
    invoice = Invoice.objects.create(
        number="FH-2026-000001",
        year=2026,
        sequence=1,
        timesheet=timesheet,
        worker=worker,
        period=PERIOD,
        issued_on=date(2026, 11, 10),
        due_on=date(2026, 11, 24),
        currency="USD",
        subtotal=Decimal("30.00"),
        tax_rate=Decimal("0.1000"),
        tax=Decimal("3.00"),
        total=Decimal("33.00"),
    )
    job = Job.objects.create(
        kind="close_period", params={"period": PERIOD}, params_key=PERIOD, total_chunks=2
    )
    JobChunk.objects.create(job=job, index=0)
    return Scene(
        user=user,
        worker=worker,
        project=project,
        session=SessionFactory(
            worker=worker, project=project, started_at=T0, ended_at=T0 + timedelta(hours=2)
        ),
        rate=RateFactory(worker=worker),
        timesheet=timesheet,
        line=TimesheetLine.objects.create(
            timesheet=timesheet, project=project, seconds=7200, amount=Decimal("30.00"), **figures
        ),
        invoice=invoice,
        invoice_line=InvoiceLine.objects.create(
            invoice=invoice,
            position=1,
            description="2:00:00",
            seconds=7200,
            amount=Decimal("30.00"),
            **figures,
        ),
        adjustment=Adjustment.objects.create(
            worker=worker,
            amount=Decimal("10.00"),
            currency="USD",
            reason="Bonus",
            applies_to_period="2026-W46",
            created_by=user,
        ),
        job=job,
    )


# Triggers refuse every change to an issued invoice or its lines (payroll 0008; tested
# below): to see what the constraints alone hold, these tests write with them switched off,
# inside the test's transaction (rolled back).
FROZEN_TABLES = {
    "payroll_invoice": "payroll_issued_invoice_frozen",
    "payroll_invoiceline": "payroll_invoice_line_frozen",
}


def update(row: models.Model, **values: Any) -> None:
    """Write values onto one stored row with a plain UPDATE (no save(), no validation)."""
    table = row._meta.db_table
    if table in FROZEN_TABLES:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending key checks: ALTER needs none
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {FROZEN_TABLES[table]}")
    type(row).objects.filter(pk=row.pk).update(**values)


def copy(row: models.Model, **changes: Any) -> models.Model:
    """Insert a copy of a stored row with some fields changed."""
    values = {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields if not f.primary_key}
    return type(row).objects.create(**{**values, **changes})


def event(scene: Scene, sequence: int) -> TimesheetEvent:
    """An `invoiced` event of the scene's timesheet, numbered as given."""
    return TimesheetEvent.objects.create(
        timesheet=scene.timesheet, sequence=sequence, from_status="approved", to_status="invoiced", at=T0
    )


Write = Callable[[Scene], object]

HELD: list[Any] = [
    # people and projects
    ("user_role_valid", lambda s: update(s.user, role="superuser")),
    ("worker_overtime_multiplier_range", lambda s: update(s.worker, overtime_multiplier=Decimal("0.99"))),
    ("worker_tax_rate_range", lambda s: update(s.worker, tax_rate=Decimal("1.0001"))),
    ("worker_overtime_after_hours_range", lambda s: update(s.worker, overtime_after_hours=Decimal("0"))),
    ("worker_weekly_hours_cap_range", lambda s: update(s.worker, weekly_hours_cap=Decimal("168.01"))),
    ("worker_minimum_hourly_range", lambda s: update(s.worker, minimum_hourly=Decimal("-0.01"))),
    (
        "project_unique_per_client",
        lambda s: Project.objects.create(name=s.project.name, client=s.project.client),
    ),
    # sessions
    ("session_task_count_max", lambda s: update(s.session, task_count=1_000_001)),
    ("task_count_check", lambda s: update(s.session, task_count=-1)),
    ("session_source_valid", lambda s: update(s.session, source="api")),
    ("session_activity_valid", lambda s: update(s.session, activity="coffee")),
    (
        "session_whole_seconds",
        lambda s: update(s.session, ended_at=T0 + timedelta(hours=1, microseconds=500)),
    ),
    # rates
    (
        "rate_hourly_rate_range",
        lambda s: copy(s.rate, hourly_rate=Decimal("-1"), effective_from=date(2026, 2, 1)),
    ),
    ("rate_hourly_rate_range", lambda s: update(s.rate, hourly_rate=Decimal("100000.0001"))),
    ("rate_unique_default_scope_day", lambda s: copy(s.rate, hourly_rate=Decimal("16"))),
    ("rate_task_rate_range", lambda s: update(s.rate, task_rate=Decimal("-0.01"))),
    ("rate_scope_one_of", lambda s: update(s.rate, activity="labelling")),
    ("rate_scope_one_of", lambda s: update(s.rate, activity="training", project_id=s.project.pk)),
    (
        "rate_unique_activity_scope_day",
        lambda s: [copy(s.rate, activity="training", hourly_rate=Decimal(n)) for n in (12, 13)],
    ),
    ("rate_unique_project_scope_day", lambda s: [copy(s.rate, project_id=s.project.pk) for _ in range(2)]),
    ("rate_effective_from_range", lambda s: update(s.rate, effective_from=date(1999, 12, 31))),
    ("rate_effective_from_range", lambda s: update(s.rate, effective_from=date(3000, 1, 1))),
    # timesheets and their lines
    ("timesheet_one_per_worker_period", lambda s: copy(s.timesheet, status="open")),
    ("timesheet_status_valid", lambda s: update(s.timesheet, status="paid")),
    ("timesheet_period_order", lambda s: update(s.timesheet, period_end=F("period_start"))),
    ("timesheet_line_unique_group", lambda s: copy(s.line, seconds=60, amount=Decimal("0.25"))),
    ("timesheet_line_kind_shape", lambda s: update(s.line, seconds=0, amount=Decimal("0"))),
    ("timesheet_line_kind_shape", lambda s: update(s.line, kind="bonus")),
    ("timesheet_line_kind_shape", lambda s: update(s.line, kind="tasks", units=0, seconds=0)),
    ("timesheet_line_kind_shape", lambda s: update(s.line, kind="top_up")),  # a top-up has no project
    ("timesheet_line_kind_shape", lambda s: update(s.line, activity=None)),
    ("timesheet_event_unique_sequence", lambda s: [event(s, sequence=1) for _ in range(2)]),
    ("timesheet_event_sequence_positive", lambda s: event(s, sequence=0)),
    ("adjustment_amount_nonzero_bounded", lambda s: update(s.adjustment, amount=Decimal("0.00"))),
    ("adjustment_amount_nonzero_bounded", lambda s: update(s.adjustment, amount=Decimal("1000000.00"))),
    ("adjustment_amount_nonzero_bounded", lambda s: update(s.adjustment, amount=Decimal("-1000000.00"))),
    (
        "reminder_once_per_stage",
        lambda s: [
            ReminderSent.objects.create(timesheet=s.timesheet, stage="due", recipient=s.user, sent_at=T0)
            for _ in range(2)
        ],
    ),
    # jobs
    ("job_one_unfinished_per_kind_params", lambda s: copy(s.job, status="running")),
    ("job_chunks_bounded", lambda s: update(s.job, done_chunks=3)),
    ("job_chunk_unique_index", lambda s: JobChunk.objects.create(job=s.job, index=0)),
    # invoices
    ("invoice_total_adds_up", lambda s: update(s.invoice, total=Decimal("34.00"))),
    (
        "invoice_subtotal_not_negative",
        lambda s: update(s.invoice, subtotal=Decimal("-1.00"), tax=Decimal("0"), total=Decimal("-1.00")),
    ),
    ("invoice_sequence_positive", lambda s: update(s.invoice, sequence=0)),
    ("invoice_line_unique_position", lambda s: copy(s.invoice_line, description="again")),
    # more digits or characters than the column holds: refused, not cut or rounded away
    ("numeric field overflow", lambda s: update(s.timesheet, total=Decimal("1000000000000.00"))),
    ("numeric field overflow", lambda s: update(s.rate, hourly_rate=Decimal("1000000"))),
    ("numeric field overflow", lambda s: update(s.adjustment, amount=Decimal("10000000000.00"))),
    ("value too long", lambda s: update(s.invoice, number="F" * 41)),
    ("NUL", lambda s: update(s.session, notes="a\x00b")),
    ("NUL", lambda s: update(s.adjustment, reason="a\x00b")),
]


@pytest.mark.parametrize(("refusal", "write"), HELD, ids=[f"{i}-{name}" for i, (name, _) in enumerate(HELD)])
def test_the_database_refuses(scene: Scene, refusal: str, write: Write) -> None:
    with pytest.raises(REFUSED, match=refusal), transaction.atomic():
        write(scene)


def _gap(reason: str, write: Write, name: str) -> Any:
    mark = pytest.mark.xfail(strict=True, raises=pytest.fail.Exception, reason=reason)
    return pytest.param(write, id=name, marks=mark)


PERIOD_CHECK = r"CHECK ({} ~ '^[0-9]{{4}}-W(0[1-9]|[1-4][0-9]|5[0-3])$')"
CURRENCY_CHECK = "CHECK (currency ~ '^[A-Z]{3}$') (or IN the ISO 4217 list, as user_role_valid)"
LINE_AMOUNT = "amount = round(seconds * hourly_rate * multiplier / 3600, 2)"
UNSCALED = "numeric({}) rounds on input, before any CHECK: column type numeric + CHECK (scale({}) <= {})"

GAPS: list[Any] = [
    _gap(
        "CHECK (started_at >= '2000-01-04 00:00:00+00') (trainers.rules.EARLIEST_INSTANT)",
        lambda s: update(
            s.session,
            started_at=datetime(1999, 6, 1, tzinfo=UTC),
            ended_at=datetime(1999, 6, 1, 1, tzinfo=UTC),
        ),
        "session-before-2000-W01",
    ),
    _gap(
        "CHECK (char_length(notes) <= 2000) (MAX_NOTES_LENGTH)",
        lambda s: update(s.session, notes="x" * 2001),
        "session-notes-too-long",
    ),
    _gap(
        "composite FK (worker_id, currency) -> trainers_worker (id, currency) ON UPDATE RESTRICT, "
        "with UNIQUE (id, currency) on trainers_worker",
        lambda s: copy(s.rate, currency="EUR", effective_from=date(2026, 2, 1)),
        "rate-currency-not-workers",
    ),
    _gap(
        UNSCALED.format("10,4", "hourly_rate", 4),
        lambda s: update(s.rate, hourly_rate=Decimal("15.12345")),
        "rate-five-decimals-rounded",
    ),
    _gap(
        UNSCALED.format("14,2", "total", 2),
        lambda s: update(s.timesheet, total=Decimal("30.005")),
        "timesheet-total-three-decimals-rounded",
    ),
    _gap(
        PERIOD_CHECK.format("period"),
        lambda s: update(s.timesheet, period="2026-w45"),
        "timesheet-period-key",
    ),
    _gap(
        PERIOD_CHECK.format("applies_to_period"),
        lambda s: update(s.adjustment, applies_to_period="next"),
        "adjustment-period-key",
    ),
    _gap(PERIOD_CHECK.format("period"), lambda s: update(s.invoice, period="2026-45"), "invoice-period-key"),
    *[
        _gap(
            CURRENCY_CHECK, lambda s, row=row: update(getattr(s, row), currency="usd"), f"{row}-currency-code"
        )
        for row in ("worker", "rate", "timesheet", "adjustment", "invoice")
    ],
    _gap(
        "CHECK (status IN ('open', 'rejected') OR submitted_at IS NOT NULL)",
        lambda s: update(s.timesheet, submitted_at=None),
        "timesheet-signed-without-submitted-at",
    ),
    _gap(
        "CHECK (status NOT IN ('approved', 'rejected', 'invoiced') OR decided_at IS NOT NULL)",
        lambda s: update(s.timesheet, decided_at=None),
        "timesheet-decided-without-decided-at",
    ),
    _gap(
        "CHECK (status <> 'rejected' OR btrim(decision_note) <> '')",
        lambda s: update(s.timesheet, status="rejected", decision_note=""),
        "timesheet-rejected-without-note",
    ),
    _gap(
        "CHECK (kind = 'regular' AND multiplier = 1 OR kind = 'overtime' AND multiplier BETWEEN 1 AND 10)",
        lambda s: update(s.line, multiplier=Decimal("1.50"), amount=Decimal("45.00")),
        "line-regular-multiplier",
    ),
    _gap(f"CHECK ({LINE_AMOUNT})", lambda s: update(s.line, amount=Decimal("31.00")), "line-amount-adds-up"),
    _gap(
        "CHECK (from_status IN (...) AND to_status IN (...)) (TimesheetStatus)",
        lambda s: TimesheetEvent.objects.create(
            timesheet=s.timesheet, sequence=1, from_status="approved", to_status="paid", at=T0
        ),
        "event-status",
    ),
    _gap(
        "CHECK (btrim(reason) <> '')", lambda s: update(s.adjustment, reason="  "), "adjustment-reason-blank"
    ),
    _gap(
        "CHECK (status IN ('queued', 'running', 'done', 'failed')): the unfinished-job index reads it",
        lambda s: update(s.job, status="pending"),
        "job-status",
    ),
    _gap(
        "CHECK (status IN ('issued', 'paid', 'void'))",
        lambda s: update(s.invoice, status="draft"),
        "invoice-status",
    ),
    _gap(
        "CHECK ((status = 'paid') = (paid_on IS NOT NULL) "
        "AND (status <> 'paid' OR btrim(payment_reference) <> ''))",
        lambda s: update(s.invoice, status="paid", payment_reference="bank"),
        "invoice-paid-without-date",
    ),
    _gap(
        "CHECK ((status = 'paid') = (paid_on IS NOT NULL) ...)",
        lambda s: update(s.invoice, paid_on=date(2026, 11, 12)),
        "invoice-issued-with-paid-on",
    ),
    _gap(
        "CHECK (status <> 'void' OR btrim(void_reason) <> '')",
        lambda s: update(s.invoice, status="void"),
        "invoice-void-without-reason",
    ),
    _gap(
        "CHECK (paid_on IS NULL OR paid_on >= issued_on)",
        lambda s: update(s.invoice, status="paid", paid_on=date(2026, 11, 9), payment_reference="bank"),
        "invoice-paid-before-issue",
    ),
    _gap(
        "CHECK (due_on >= issued_on)",
        lambda s: update(s.invoice, due_on=date(2026, 11, 9)),
        "invoice-due-first",
    ),
    _gap(
        "CHECK (tax_rate >= 0 AND tax_rate <= 1)",
        lambda s: update(s.invoice, tax_rate=Decimal("1.5"), tax=Decimal("45.00"), total=Decimal("75.00")),
        "invoice-tax-rate-range",
    ),
    _gap(
        "CHECK (tax = round(subtotal * tax_rate, 2))",
        lambda s: update(s.invoice, tax=Decimal("4.00"), total=Decimal("34.00")),
        "invoice-tax-adds-up",
    ),
    _gap(
        "CHECK (year = date_part('year', issued_on))",
        lambda s: update(s.invoice, year=2025, number="FH-2025-000001"),
        "invoice-year-not-issue-year",
    ),
    _gap(
        "CHECK (number LIKE '%-' || year || '-' || lpad(sequence::text, 6, '0')) (for sequence < 10^6)",
        lambda s: update(s.invoice, number="FH-2026-000002"),
        "invoice-number-not-sequence",
    ),
    _gap(
        "CHECK (position > 0): positions start at 1",
        lambda s: update(s.invoice_line, position=0),
        "invoice-line-position-zero",
    ),
    _gap(
        "CHECK (kind IN ('regular', 'overtime', 'adjustment'))",
        lambda s: update(s.invoice_line, kind="bonus"),
        "invoice-line-kind",
    ),
    _gap(
        "CHECK (kind <> 'adjustment' OR (seconds = 0 AND hourly_rate IS NULL AND multiplier IS NULL "
        "AND amount <> 0))",
        lambda s: update(s.invoice_line, kind="adjustment"),
        "invoice-line-adjustment-shape",
    ),
    _gap(
        f"CHECK (kind = 'adjustment' OR {LINE_AMOUNT})",
        lambda s: update(s.invoice_line, amount=Decimal("31.00")),
        "invoice-line-amount-adds-up",
    ),
]


@pytest.mark.parametrize("write", GAPS)
def test_the_database_should_refuse(scene: Scene, write: Write) -> None:
    with pytest.raises(REFUSED), transaction.atomic():
        write(scene)


DELETES = [
    pytest.param("DELETE FROM trainers_worker WHERE id = %(worker)s", "trainers_worker", id="worker"),
    pytest.param("DELETE FROM trainers_project WHERE id = %(project)s", "trainers_project", id="project"),
    pytest.param(
        "DELETE FROM payroll_timesheetline WHERE timesheet_id = %(timesheet)s;"
        "DELETE FROM payroll_timesheet WHERE id = %(timesheet)s",
        'on table "payroll_invoice"',
        id="timesheet-with-invoice",
    ),
    pytest.param(
        "DELETE FROM payroll_invoice WHERE id = %(invoice)s",
        "An issued invoice is never deleted",
        id="invoice-with-lines",
    ),
]


@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        (
            "UPDATE payroll_invoice SET total = total + 1, subtotal = subtotal + 1 WHERE id = %(invoice)s",
            "never changes",
        ),
        ("UPDATE payroll_invoice SET number = 'FH-2026-999999' WHERE id = %(invoice)s", "never changes"),
        (
            "UPDATE payroll_invoice SET contractor = jsonb_build_object('full_name', 'Else') "
            "WHERE id = %(invoice)s",
            "never changes",
        ),
        ("UPDATE payroll_invoiceline SET amount = amount + 1 WHERE invoice_id = %(invoice)s", "never change"),
        ("DELETE FROM payroll_invoiceline WHERE invoice_id = %(invoice)s", "never change"),
        ("DELETE FROM payroll_invoice WHERE id = %(invoice)s", "never deleted"),
    ],
)
def test_an_issued_invoice_never_changes_and_is_never_deleted(scene: Scene, sql: str, refusal: str) -> None:
    """PAY_RULES §7, held by triggers (payroll 0008): not even raw SQL changes an issued invoice."""
    with pytest.raises(IntegrityError, match=refusal), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, {"invoice": scene.invoice.pk})


def test_what_happens_to_an_invoice_after_issue_may_still_be_recorded(scene: Scene) -> None:
    """Paid or void, and the stored PDF: the only columns the triggers let change."""
    Invoice.objects.filter(pk=scene.invoice.pk).update(
        status="paid",
        paid_on=scene.invoice.issued_on,
        payment_reference="T-1",
        pdf="invoices/x.pdf",
        pdf_sha256="0" * 64,
    )
    assert Invoice.objects.get(pk=scene.invoice.pk).status == "paid"


@pytest.mark.parametrize(("sql", "refusal"), DELETES)
def test_raw_deletes_of_referenced_rows_are_refused_by_foreign_keys(
    scene: Scene, sql: str, refusal: str
) -> None:
    """Django's PROTECT lives in Python; the foreign keys (NO ACTION, deferred) hold it at commit."""
    ids = {
        "worker": scene.worker.pk,
        "project": scene.project.pk,
        "timesheet": scene.timesheet.pk,
        "invoice": scene.invoice.pk,
    }
    with pytest.raises(IntegrityError, match=refusal), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT would check
        for statement in sql.split(";"):
            cursor.execute(statement, ids)


def _our_models() -> list[type[models.Model]]:
    return [
        model
        for app in ("trainers", "payroll")
        for model in apps.get_app_config(app).get_models()
        if not model._meta.auto_created and not model.__name__.startswith("Historical")
    ]


NAMED_SQL = """
SELECT conname FROM pg_constraint WHERE conrelid = %(table)s::regclass AND convalidated
UNION
SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = %(table)s::regclass AND i.indisunique AND i.indisvalid
"""
RAW_SQL_CONSTRAINTS = {
    "trainers_labellingsession": {"session_no_overlap", "session_whole_seconds", "session_length_ceiling"}
}


def test_every_declared_constraint_and_foreign_key_exists_in_postgresql() -> None:
    missing = []
    with connection.cursor() as cursor:
        for model in _our_models():
            table = model._meta.db_table
            cursor.execute(NAMED_SQL, {"table": table})
            present = {name for (name,) in cursor.fetchall()}
            declared = {c.name for c in model._meta.constraints} | RAW_SQL_CONSTRAINTS.get(table, set())
            missing += [f"{table}.{name}" for name in sorted(declared - present)]
            keys = connection.introspection.get_relations(cursor, table)
            missing += [
                f"{table}.{field.column} (foreign key)"
                for field in model._meta.concrete_fields
                if field.is_relation
                and keys.get(field.column, (None, None))[1] != field.related_model._meta.db_table
            ]
    assert missing == []


def test_the_models_and_migrations_agree() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
