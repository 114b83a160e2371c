"""Money: rates, timesheets and their lines and events, adjustments, jobs, reminders."""

from datetime import date, datetime
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from trainers.models import NON_PRODUCTION_ACTIVITIES, Activity, Project, Team, Worker
from trainers.validators import validate_currency

MAX_HOURLY_RATE = Decimal("100000")
MAX_TASK_RATE = Decimal("100000")
RATE_DAYS = (date(2000, 1, 1), date(2999, 12, 31))  # the periods Fairhour holds


class Rate(models.Model):
    """A rate from a local date on (PAY_RULES §3, §8, §9): per hour, and optionally per task.

    Its scope is the worker's default (no project, no activity), one project, or one
    non-production activity; never a project and an activity together. 0.00 an hour is a
    price (pure piece work), not a missing rate. Rates are never rounded: four decimal
    places keep per-minute prices exact.
    """

    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="rates")
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="rates", null=True, blank=True
    )
    activity = models.CharField(
        max_length=12,
        choices=[(value, Activity(value).label) for value in NON_PRODUCTION_ACTIVITIES],
        null=True,
        blank=True,
        help_text="A non-production activity this rate prices; empty for the default or a project rate.",
    )
    hourly_rate = models.DecimalField(
        max_digits=10,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_HOURLY_RATE)],
    )
    task_rate = models.DecimalField(
        max_digits=10,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_TASK_RATE)],
        help_text="Paid per task on top of the hourly rate; empty: tasks are not paid by the piece.",
    )
    currency = models.CharField(max_length=3, validators=[validate_currency])
    effective_from = models.DateField(help_text="Local date in the worker's time zone.")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["worker_id", "project_id", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["worker", "project", "effective_from"],
                condition=Q(project__isnull=False),
                name="rate_unique_project_scope_day",
            ),
            models.UniqueConstraint(
                fields=["worker", "effective_from"],
                condition=Q(project__isnull=True, activity__isnull=True),
                name="rate_unique_default_scope_day",
            ),
            models.UniqueConstraint(
                fields=["worker", "activity", "effective_from"],
                condition=Q(activity__isnull=False),
                name="rate_unique_activity_scope_day",
            ),
            models.CheckConstraint(
                condition=Q(activity__isnull=True)
                | (Q(project__isnull=True) & Q(activity__in=NON_PRODUCTION_ACTIVITIES)),
                name="rate_scope_one_of",
            ),
            models.CheckConstraint(
                condition=Q(hourly_rate__gte=0) & Q(hourly_rate__lte=MAX_HOURLY_RATE),
                name="rate_hourly_rate_range",
            ),
            models.CheckConstraint(
                condition=Q(task_rate__isnull=True) | (Q(task_rate__gte=0) & Q(task_rate__lte=MAX_TASK_RATE)),
                name="rate_task_rate_range",
            ),
            models.CheckConstraint(
                condition=Q(effective_from__range=RATE_DAYS), name="rate_effective_from_range"
            ),
        ]

    def __str__(self) -> str:
        scope = self.project.name if self.project else (self.activity or "default")
        per_task = f" + {self.task_rate}/task" if self.task_rate is not None else ""
        price = f"{self.hourly_rate} {self.currency}/h{per_task}"
        return f"{price} for {self.worker} ({scope}) from {self.effective_from}"


class TimesheetStatus(models.TextChoices):
    OPEN = "open", "Open"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    INVOICED = "invoiced", "Invoiced"


# Statuses in which the period's sessions may not change (PAY_RULES §6).
LOCKED_STATUSES = frozenset({TimesheetStatus.SUBMITTED, TimesheetStatus.APPROVED, TimesheetStatus.INVOICED})
# Statuses whose lines are stored for good (copied rates and amounts).
FROZEN_STATUSES = LOCKED_STATUSES


class Timesheet(models.Model):
    """One worker's pay period, with its lines and total stored and kept current.

    It exists from the first finished time (or adjustment) in the period; every write that
    changes what it is paid prices it again in the same transaction, until it is submitted.
    """

    # No index of its own: `timesheet_one_per_worker_period` (worker, period) leads with it.
    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="timesheets", db_index=False)
    period = models.CharField(max_length=8, help_text="ISO week in the worker's zone, e.g. 2026-W45.")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    status = models.CharField(max_length=10, choices=TimesheetStatus.choices, default=TimesheetStatus.OPEN)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    total = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text="Sum of line amounts and adjustments, as last computed or stored.",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        "trainers.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_note = models.TextField(blank=True, default="")
    # Time on a project with no rate, as last priced: [[project id, seconds], ...]. Never
    # paid as zero; it blocks submit and approval until finance adds a rate.
    unpriced = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_start", "worker_id"]
        indexes = [models.Index(fields=["period", "status"], name="timesheet_period_status")]
        constraints = [
            models.UniqueConstraint(fields=["worker", "period"], name="timesheet_one_per_worker_period"),
            models.CheckConstraint(
                condition=Q(status__in=TimesheetStatus.values), name="timesheet_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")), name="timesheet_period_order"
            ),
        ]

    def __str__(self) -> str:
        return f"Timesheet {self.period} of {self.worker} ({self.status})"

    @property
    def is_locked(self) -> bool:
        return self.status in LOCKED_STATUSES

    def has_ended(self, now: datetime) -> bool:
        """Whether the week is over at `now` (its bounds are the worker's local week).

        Submitting a week that has not ended locks the rest of it, so that needs a
        confirmation, and the approval queue does not tick it for the manager.
        """
        return now >= self.period_end


class LineKind(models.TextChoices):
    REGULAR = "regular", "Regular"
    OVERTIME = "overtime", "Overtime"
    TASKS = "tasks", "Tasks"
    TOP_UP = "top_up", "Fair-pay top-up"


HOURLY_KINDS = (LineKind.REGULAR, LineKind.OVERTIME)
# A stored line's values but its timesheet, in the order LineFigures holds them (after
# the project's name): what the close writes and what invoicing copies.
LINE_VALUES = ("project_id", "activity", "kind", "hourly_rate", "multiplier", "seconds", "units", "amount")

# How a timesheet's lines read (PAY_RULES §4), as the engine orders them: by project,
# labelling before the other activities, regular, overtime, then tasks, by rate; the
# period's top-up (no project) last.
LINE_ORDER = (
    models.F("project_id").asc(nulls_last=True),
    models.Case(models.When(activity=Activity.LABELLING, then=models.Value(0)), default=models.Value(1)),
    "activity",
    models.Case(
        models.When(kind=LineKind.REGULAR, then=models.Value(0)),
        models.When(kind=LineKind.OVERTIME, then=models.Value(1)),
        models.When(kind=LineKind.TASKS, then=models.Value(2)),
        default=models.Value(3),
    ),
    "hourly_rate",
)


class TimesheetLine(models.Model):
    """A group of a timesheet's pay, with its rate and amount copied in (PAY_RULES §4, §9, §10).

    regular/overtime: `seconds` of (project, activity) time at `hourly_rate` x `multiplier`;
    tasks: `units` at the task rate (in `hourly_rate`, the line's one rate column);
    top_up: no project or activity, the floor per hour (in `hourly_rate`) x all the
    period's `seconds`, less what the other lines earned.
    """

    # No index of its own: `timesheet_line_unique_group` (timesheet, ...) leads with it.
    timesheet = models.ForeignKey(Timesheet, on_delete=models.CASCADE, related_name="lines", db_index=False)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+", null=True)
    # The default also fills the lines stored before activities existed (migration 0010).
    activity = models.CharField(
        max_length=12, choices=Activity.choices, null=True, default=Activity.LABELLING
    )
    kind = models.CharField(max_length=8, choices=LineKind.choices)
    hourly_rate = models.DecimalField(max_digits=10, decimal_places=4, help_text="The line's one rate.")
    multiplier = models.DecimalField(max_digits=4, decimal_places=2)
    seconds = models.PositiveIntegerField()
    units = models.PositiveIntegerField(default=0, db_default=0)
    amount = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["project_id", "activity", "kind", "hourly_rate"]
        constraints = [
            models.UniqueConstraint(
                fields=["timesheet", "project", "activity", "hourly_rate", "kind"],
                name="timesheet_line_unique_group",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind__in=HOURLY_KINDS, seconds__gt=0, units=0)
                    | Q(kind=LineKind.TASKS, seconds=0, units__gt=0)
                    | Q(kind=LineKind.TOP_UP, seconds__gt=0, units=0)
                )
                & (
                    Q(kind=LineKind.TOP_UP, project__isnull=True, activity__isnull=True)
                    | (~Q(kind=LineKind.TOP_UP) & Q(project__isnull=False, activity__isnull=False))
                ),
                name="timesheet_line_kind_shape",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.seconds}s {self.units} tasks {self.kind} at {self.hourly_rate} = {self.amount}"


ADJUSTMENT_KIND = "adjustment"  # a PaySummary row of adjustments (no project)


class PaySummary(models.Model):
    """A signed change to the pay report's sums per (week, team, project, currency, kind).

    The pay report groups a quarter of a whole workforce's lines by project, team or week;
    summing these instead of the lines keeps it under a second. They are written in the
    transaction that writes what they sum (payroll.services.pay_summaries): a timesheet's
    lines changing, its worker changing team. No status: a status change, the busiest
    write of the close and invoicing, changes no sum (a report filtered by status reads
    the lines, as the report by worker does). Append-only, so that
    concurrent writes never wait on a shared row: a group's figures are the sum of its
    rows, and compaction (a scheduled task) folds them into one row per group again.
    `kind` is a line kind, or ADJUSTMENT_KIND for the adjustments on the timesheets.
    """

    period = models.CharField(max_length=8)
    # The worker's team now: a team's deletion leaves its workers, and their sums, with none.
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+", null=True)
    currency = models.CharField(max_length=3)
    kind = models.CharField(max_length=10)
    seconds = models.BigIntegerField()
    units = models.BigIntegerField()
    amount = models.DecimalField(max_digits=20, decimal_places=2)

    class Meta:
        indexes = [models.Index(fields=["period"], name="pay_summary_period")]

    def __str__(self) -> str:
        return f"{self.period} {self.kind} {self.amount} {self.currency}"


class TimesheetEvent(models.Model):
    """An audit row for every state change: from, to, who, when, why, and its place in line.

    `sequence` numbers a timesheet's events 1, 2, 3... in the order their transactions
    committed: each is written under the timesheet's row lock, as the last one's + 1.
    """

    # No index of its own: `timesheet_event_unique_sequence` (timesheet, sequence) leads with it.
    timesheet = models.ForeignKey(Timesheet, on_delete=models.CASCADE, related_name="events", db_index=False)
    sequence = models.IntegerField(help_text="The event's place in its timesheet's history: 1, 2, 3...")
    from_status = models.CharField(max_length=10, choices=TimesheetStatus.choices)
    to_status = models.CharField(max_length=10, choices=TimesheetStatus.choices)
    actor = models.ForeignKey(
        "trainers.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(help_text="When the step was taken; never before the previous event's.")
    note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["timesheet_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["timesheet", "sequence"], name="timesheet_event_unique_sequence"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="timesheet_event_sequence_positive"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.from_status} -> {self.to_status} at {self.at:%Y-%m-%d %H:%M}"


MAX_ADJUSTMENT = Decimal("1000000")


class Adjustment(models.Model):
    """A signed correction after approval, paid in the worker's next open period (§6)."""

    # No index of its own: `adjustment_worker_period` (worker, applies_to_period) leads with it.
    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="adjustments", db_index=False)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    reason = models.TextField()
    applies_to_period = models.CharField(max_length=8)
    created_by = models.ForeignKey("trainers.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["worker", "applies_to_period"], name="adjustment_worker_period")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(amount=0) & Q(amount__gt=-MAX_ADJUSTMENT) & Q(amount__lt=MAX_ADJUSTMENT),
                name="adjustment_amount_nonzero_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} for {self.worker} in {self.applies_to_period}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


UNFINISHED_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class Job(models.Model):
    """A background job and its visible progress; one unfinished job per kind and arguments."""

    kind = models.CharField(max_length=40)
    params = models.JSONField(default=dict)
    params_key = models.CharField(max_length=200, help_text="Canonical form of params, for de-duplication.")
    status = models.CharField(max_length=8, choices=JobStatus.choices, default=JobStatus.QUEUED)
    total_chunks = models.PositiveIntegerField(default=0)
    done_chunks = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        "trainers.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    progressed_at = models.DateTimeField(
        null=True, blank=True, help_text="Last time a chunk of this job started or finished."
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "params_key"],
                condition=Q(status__in=["queued", "running"]),
                name="job_one_unfinished_per_kind_params",
            ),
            models.CheckConstraint(
                condition=Q(done_chunks__lte=F("total_chunks")), name="job_chunks_bounded"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.params_key} ({self.status})"

    @property
    def progress(self) -> int:
        """Percent done, 0-100, from the finished chunks."""
        if self.status == JobStatus.DONE:
            return 100
        if not self.total_chunks:
            return 0
        return min(99, 100 * self.done_chunks // self.total_chunks)


class JobChunk(models.Model):
    """One chunk of a fanned-out job; marking it done twice counts it once."""

    # No index of its own: `job_chunk_unique_index` (job, index) leads with it.
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="chunks", db_index=False)
    index = models.PositiveIntegerField()
    items = models.JSONField(default=list, help_text="The ids this chunk works on (e.g. worker ids).")
    attempts = models.PositiveIntegerField(
        default=0, help_text="Deliveries of this chunk so far; capped so a poison chunk cannot loop."
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="job_chunk_unique_index")]

    def __str__(self) -> str:
        return f"chunk {self.index} of job {self.job_id}"


class ReminderSent(models.Model):
    """A reminder that went out: at most one per timesheet, stage and recipient."""

    # No index of its own: `reminder_once_per_stage` (timesheet, ...) leads with it.
    timesheet = models.ForeignKey(
        Timesheet, on_delete=models.CASCADE, related_name="reminders", db_index=False
    )
    stage = models.CharField(max_length=20)
    recipient = models.ForeignKey("trainers.User", on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["timesheet", "stage", "recipient"], name="reminder_once_per_stage"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage} reminder for timesheet {self.timesheet_id}"


class InvoiceCounter(models.Model):
    """The last invoice sequence used in a year; locked while an invoice is numbered.

    A PostgreSQL sequence would leave gaps on rollback; a row locked in the same
    transaction as the invoice insert cannot (PAY_RULES §7).
    """

    year = models.PositiveIntegerField(unique=True)
    last_sequence = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_sequence}"


class InvoiceStatus(models.TextChoices):
    ISSUED = "issued", "Issued"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


class Invoice(models.Model):
    """A self-billing invoice from a contractor to the company for one approved timesheet."""

    number = models.CharField(max_length=40)  # unique: `invoice_unique_number` (no LIKE index beside it)
    year = models.PositiveIntegerField()
    sequence = models.PositiveIntegerField()
    timesheet = models.OneToOneField(Timesheet, on_delete=models.PROTECT, related_name="invoice")
    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="invoices")
    period = models.CharField(max_length=8)
    issued_on = models.DateField()
    due_on = models.DateField()
    currency = models.CharField(max_length=3, validators=[validate_currency])
    subtotal = models.DecimalField(max_digits=14, decimal_places=2)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=4)
    tax = models.DecimalField(max_digits=14, decimal_places=2)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    status = models.CharField(max_length=6, choices=InvoiceStatus.choices, default=InvoiceStatus.ISSUED)
    paid_on = models.DateField(null=True, blank=True)
    payment_reference = models.CharField(max_length=200, blank=True, default="")
    void_reason = models.TextField(blank=True, default="")
    # Who recorded the payment or the void, and when: the audit trail of money leaving (or
    # not). Not frozen by the issued-invoice trigger (0008), which lists what is.
    paid_by = models.ForeignKey(
        "trainers.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    paid_recorded_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        "trainers.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    # Snapshots taken at issue: an issued invoice never changes, even when settings or the
    # worker's details do.
    company = models.JSONField(default=dict, help_text="The company's details (settings) at issue.")
    contractor = models.JSONField(default=dict, help_text="The contractor's details (worker) at issue.")
    pdf = models.FileField(upload_to="invoices/", blank=True, default="")
    pdf_sha256 = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["year", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="invoice_unique_number"),
            models.UniqueConstraint(fields=["year", "sequence"], name="invoice_unique_year_sequence"),
            models.CheckConstraint(condition=Q(sequence__gt=0), name="invoice_sequence_positive"),
            models.CheckConstraint(condition=Q(total=F("subtotal") + F("tax")), name="invoice_total_adds_up"),
            # Nobody is invoiced for a negative sum: a clawback larger than the week blocks it.
            models.CheckConstraint(condition=Q(subtotal__gte=0), name="invoice_subtotal_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(models.Model):
    """A copied timesheet line or adjustment: reproducible from seconds and rate."""

    # No index of its own: `invoice_line_unique_position` (invoice, position) leads with it.
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines", db_index=False)
    position = models.PositiveIntegerField()
    description = models.CharField(max_length=300)
    kind = models.CharField(max_length=10)  # a timesheet line's kind, or adjustment
    seconds = models.PositiveIntegerField(default=0)
    units = models.PositiveIntegerField(default=0, db_default=0)  # tasks, on a tasks line
    hourly_rate = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    multiplier = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["invoice_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount}"
