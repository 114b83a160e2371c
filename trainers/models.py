"""People and their time. trainers knows nothing about money (see payroll)."""

from datetime import timedelta
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from core.periods import iso_week_key
from trainers.validators import validate_currency, validate_time_zone

MAX_TASK_COUNT = 1_000_000
MAX_NOTES_LENGTH = 2000
# The database's absolute ceiling on a session's length; MAX_SESSION_HOURS may be lower.
SESSION_LENGTH_CEILING = timedelta(hours=24)
HOURS_IN_A_WEEK = 168
MAX_MINIMUM_HOURLY = Decimal("100000")  # as payroll's MAX_HOURLY_RATE


class Role(models.TextChoices):
    CONTRACTOR = "contractor", "Contractor"
    MANAGER = "manager", "Manager"
    FINANCE = "finance", "Finance"
    ADMIN = "admin", "Admin"


ALL_ROLES = frozenset(Role.values)


class FairhourUserManager(UserManager["User"]):
    """Django's manager, but a superuser (`manage.py createsuperuser`) administers Fairhour."""

    def create_superuser(
        self, username: str, email: str | None = None, password: str | None = None, **extra_fields: Any
    ) -> "User":
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person who signs in; the role decides what they may see and do."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CONTRACTOR)

    objects: ClassVar[FairhourUserManager] = FairhourUserManager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="user_role_valid"),
        ]

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN

    def take_rights_of_role(self) -> None:
        """Django's rights follow the role: an admin is staff and superuser, nobody else is."""
        self.is_staff = self.is_superuser = self.role == Role.ADMIN

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save; a new password ends the user's API tokens, as it ends their web sessions.

        Django keeps the raw password in `_password` from set_password() until the save, and
        clears it first when it only upgrades the stored hash (check_password), which is no
        change of password: the tokens stay then.
        """
        ends_tokens = self.pk is not None and getattr(self, "_password", None) is not None
        super().save(*args, **kwargs)
        if ends_tokens:
            from knox.models import AuthToken  # here: another app's model

            AuthToken.objects.filter(user=self).delete()


class Team(models.Model):
    """A group of workers led by one or more managers."""

    name = models.CharField(max_length=120, unique=True)
    managers = models.ManyToManyField(User, related_name="managed_teams", blank=True)

    def __str__(self) -> str:
        return self.name


def _weekly_hours_field(help_text: str) -> "models.DecimalField[Decimal | None, Decimal | None]":
    """An optional number of hours in a week: more than 0, at most HOURS_IN_A_WEEK."""
    return models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal(HOURS_IN_A_WEEK))],
        help_text=help_text,
    )


class Worker(models.Model):
    """A contractor's profile and contract terms."""

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="worker")
    full_name = models.CharField(max_length=200)
    email = models.EmailField()
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="workers", null=True, blank=True)
    currency = models.CharField(max_length=3, validators=[validate_currency], default="USD")
    overtime_after_hours = _weekly_hours_field(
        "Weekly hours after which time is overtime; empty turns overtime off."
    )
    overtime_multiplier = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.50"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("10"))],
    )
    tax_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="Fraction added as tax on invoices, e.g. 0.1900 for 19%.",
    )
    weekly_hours_cap = _weekly_hours_field(
        "Optional contractual weekly cap; time past it is flagged, not refused."
    )
    minimum_hourly = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_MINIMUM_HOURLY)],
        help_text="The fair-pay floor per hour worked, in the contract currency; empty: no floor.",
    )
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(overtime_multiplier__gte=1) & Q(overtime_multiplier__lte=10),
                name="worker_overtime_multiplier_range",
            ),
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0) & Q(tax_rate__lte=1),
                name="worker_tax_rate_range",
            ),
            models.CheckConstraint(
                condition=Q(overtime_after_hours__isnull=True)
                | (Q(overtime_after_hours__gt=0) & Q(overtime_after_hours__lte=HOURS_IN_A_WEEK)),
                name="worker_overtime_after_hours_range",
            ),
            models.CheckConstraint(
                condition=Q(weekly_hours_cap__isnull=True)
                | (Q(weekly_hours_cap__gt=0) & Q(weekly_hours_cap__lte=HOURS_IN_A_WEEK)),
                name="worker_weekly_hours_cap_range",
            ),
            models.CheckConstraint(
                condition=Q(minimum_hourly__isnull=True)
                | (Q(minimum_hourly__gte=0) & Q(minimum_hourly__lte=MAX_MINIMUM_HOURLY)),
                name="worker_minimum_hourly_range",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class Project(models.Model):
    """A labelling project for a client; only assigned workers may log time on it."""

    name = models.CharField(max_length=200)
    client = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    workers = models.ManyToManyField(Worker, related_name="projects", blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "name"], name="project_unique_per_client"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.client})"


class Activity(models.TextChoices):
    """What a session's time was spent on (PAY_RULES §8): all of it is paid working time."""

    LABELLING = "labelling", "Labelling"  # production work, the default
    REVIEW = "review", "Review"
    TRAINING = "training", "Training"
    GUIDELINES = "guidelines", "Guideline reading"
    CALIBRATION = "calibration", "Calibration"
    MEETING = "meeting", "Meeting"


# Activities a rate may be scoped to: every one but production work (PAY_RULES §8).
NON_PRODUCTION_ACTIVITIES = tuple(value for value in Activity.values if value != Activity.LABELLING)


class SessionSource(models.TextChoices):
    TIMER = "timer", "Timer"
    MANUAL = "manual", "Manual entry"
    IMPORT = "import", "CSV import"


class LabellingSession(models.Model):
    """A half-open interval [started_at, ended_at) of work; ended_at empty while running.

    PostgreSQL also holds (migration 0002): no two sessions of a worker overlap (an
    exclusion constraint, a running session counting as open-ended), whole seconds only,
    and a 24 h ceiling on length.
    """

    # No index of its own: `session_worker_start` (worker, started_at) leads with it.
    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="sessions", db_index=False)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="sessions")
    # db_default too: rows written by COPY or by SQL that names no activity are labelling.
    activity = models.CharField(
        max_length=12, choices=Activity.choices, default=Activity.LABELLING, db_default=Activity.LABELLING
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    task_count = models.PositiveIntegerField(default=0)
    notes = models.TextField(blank=True, default="")
    source = models.CharField(max_length=8, choices=SessionSource.choices)
    needs_review = models.BooleanField(
        default=False, help_text="Set when Fairhour stopped the timer at the maximum length."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["worker", "started_at"], name="session_worker_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gt=F("started_at")),
                name="session_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["worker"],
                condition=Q(ended_at__isnull=True),
                name="session_one_running_per_worker",
            ),
            models.CheckConstraint(
                condition=Q(task_count__lte=MAX_TASK_COUNT), name="session_task_count_max"
            ),
            models.CheckConstraint(condition=Q(source__in=SessionSource.values), name="session_source_valid"),
            models.CheckConstraint(condition=Q(activity__in=Activity.values), name="session_activity_valid"),
        ]

    def __str__(self) -> str:
        return f"Session {self.pk} of worker {self.worker_id} from {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_running(self) -> bool:
        return self.ended_at is None

    @property
    def duration_seconds(self) -> int | None:
        """Real elapsed seconds (UTC arithmetic, so DST nights count truly); None if running."""
        if self.ended_at is None:
            return None
        # timestamp(), not subtraction: two datetimes of one zone subtract on the wall clock.
        return int(self.ended_at.timestamp() - self.started_at.timestamp())

    @property
    def period(self) -> str:
        """The ISO week of the start, in the worker's own time zone."""
        return iso_week_key(self.started_at, self.worker.zone)
