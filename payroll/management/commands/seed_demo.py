"""Load demo data: a team, its manager, four contractors, finance, an admin, projects,
rates, last week's sessions and timesheets in every state. Safe to run again: existing
demo users are kept.

One contractor is paid by the piece (0.35 per ranked answer) with a 15.00/h fair-pay
floor, and trains and reads guidelines at rates of their own (PAY_RULES §8-10): their
slow week shows the top-up.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from payroll.models import Rate, Timesheet, TimesheetStatus
from payroll.services.invoices import invoice_issue
from payroll.services.rates import rate_create
from payroll.services.timesheet_transitions import timesheet_transition
from payroll.services.timesheets import timesheet_get_or_create
from trainers.models import LabellingSession, Project, Role, Team, User, Worker
from trainers.services.sessions import session_create

DEMO_PASSWORD = "fairhour-demo"  # noqa: S105 - printed for the demo on purpose
DEMO_NOTES = "Demo session"


@dataclass(frozen=True)
class DemoContractor:
    username: str
    full_name: str
    time_zone: str
    currency: str
    default_rate: Decimal
    overtime_after_hours: Decimal | None = None


@dataclass(frozen=True)
class PieceRateContractor:
    """Paid per task with a floor; non-production time at rates of its own."""

    username: str = "tomas"
    full_name: str = "Tomás Silva"
    time_zone: str = "America/Sao_Paulo"
    currency: str = "USD"
    task_rate: Decimal = Decimal("0.35")  # per ranked answer
    minimum_hourly: Decimal = Decimal("15.00")  # the seed's fair-pay floor
    activity_rate: Decimal = Decimal("14.00")  # training and guideline reading


CONTRACTORS = [
    DemoContractor("carlos", "Carlos Rivera", "America/Chicago", "USD", Decimal("15.00")),
    DemoContractor("priya", "Priya Nair", "Asia/Kolkata", "USD", Decimal("12.50")),
    DemoContractor("lena", "Lena Vogel", "Europe/Berlin", "EUR", Decimal("18.00"), Decimal("40")),
]
PIECE_RATE = PieceRateContractor()
# The piece-rate contractor's slow week: (weekday, start, end, activity, tasks), local times.
PIECE_RATE_WEEK = [
    (0, time(9, 0), time(11, 0), "labelling", 60),
    (1, time(9, 0), time(11, 0), "labelling", 25),
    (2, time(9, 0), time(11, 0), "labelling", 30),
    (3, time(14, 0), time(15, 30), "training", 0),
    (4, time(10, 0), time(11, 0), "guidelines", 0),
]
# Local working hours of each demo day (Mon-Fri of last week): two blocks.
WORK_BLOCKS = [(time(9, 0), time(12, 30)), (time(13, 15), time(17, 40))]


def week_key(day: date) -> str:
    """The ISO week key of a calendar day, e.g. 2026-W47."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


class Command(BaseCommand):
    help = "Load demo data for Fairhour and print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        """Create the demo people, projects, rates and sessions once, then print logins."""
        with transaction.atomic():
            admin = self._user("admin", Role.ADMIN, is_staff=True, is_superuser=True)
            manager = self._user("maria", Role.MANAGER)
            self._user("fiona", Role.FINANCE)
            team, _ = Team.objects.get_or_create(name="Team Alpha")
            team.managers.add(manager)
            projects = self._projects()
            for demo in CONTRACTORS:
                worker, _ = self._worker(demo, team, projects, overtime_after_hours=demo.overtime_after_hours)
                self._rates(demo, worker, projects, admin)
                self._sessions(worker, projects, admin)
            self._piece_rate_contractor(team, projects[0], admin)
            self._timesheets(projects, manager, admin)
            self._logged_as_worked()
        self._print_logins()

    def _logged_as_worked(self) -> None:
        """Date the demo sessions as if each was logged when it ended, not by this command.

        Created now, after their week, every one would be flagged a late entry, and the
        approval queue's bulk approve (of weeks without problems) would have nothing to do.
        """
        demo = LabellingSession.objects.filter(notes=DEMO_NOTES, created_at__gt=F("ended_at"))
        demo.update(created_at=F("ended_at"), updated_at=F("ended_at"))

    def _user(self, username: str, role: str, **flags: bool) -> User:
        user, created = User.objects.get_or_create(
            username=username, defaults={"role": role, "email": f"{username}@example.com", **flags}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        return user

    def _projects(self) -> list[Project]:
        specs = [("RLHF answer ranking", "Acme AI"), ("Image bounding boxes", "Pixel Labs")]
        return [Project.objects.get_or_create(name=name, client=client)[0] for name, client in specs]

    def _worker(
        self, demo: "DemoContractor | PieceRateContractor", team: Team, projects: list[Project], **terms: Any
    ) -> tuple[Worker, bool]:
        """The demo contractor's profile with these contract terms, on these projects; and
        whether it is new."""
        user = self._user(demo.username, Role.CONTRACTOR)
        worker, created = Worker.objects.get_or_create(
            user=user,
            defaults={
                "full_name": demo.full_name,
                "email": user.email,
                "time_zone": demo.time_zone,
                "team": team,
                "currency": demo.currency,
                **terms,
            },
        )
        for project in projects:
            project.workers.add(worker)
        return worker, created

    def _rates(self, demo: DemoContractor, worker: Worker, projects: list[Project], admin: User) -> None:
        if Rate.objects.filter(worker=worker).exists():
            return
        common = {"worker": worker, "currency": demo.currency, "effective_from": date(2026, 1, 1)}
        rate_create(actor=admin, fields={**common, "hourly_rate": demo.default_rate})
        # The image project pays a little more: a project rate beats the default (§3).
        rate_create(
            actor=admin,
            fields={**common, "project": projects[1], "hourly_rate": demo.default_rate + Decimal("1.50")},
        )

    def _sessions(self, worker: Worker, projects: list[Project], admin: User) -> None:
        if LabellingSession.objects.filter(worker=worker).exists():
            return
        last_monday = _last_monday()
        for offset in range(5):
            day = last_monday + timedelta(days=offset)
            for index, (start, end) in enumerate(WORK_BLOCKS):
                session_create(
                    actor=admin,
                    worker=worker,
                    project=projects[(offset + index) % 2],
                    started_at=datetime.combine(day, start, tzinfo=worker.zone),
                    ended_at=datetime.combine(day, end, tzinfo=worker.zone),
                    task_count=40 + 7 * offset + index,
                    notes=DEMO_NOTES,
                )

    def _piece_rate_contractor(self, team: Team, ranking: Project, admin: User) -> None:
        """Tomás ranks answers at 0.35 each with a 15.00/h floor; his slow week is topped up."""
        demo = PIECE_RATE
        worker, created = self._worker(demo, team, [ranking], minimum_hourly=demo.minimum_hourly)
        if not created:
            return
        common = {"worker": worker, "currency": demo.currency, "effective_from": date(2026, 1, 1)}
        rate_create(
            actor=admin, fields={**common, "hourly_rate": Decimal("0.00"), "task_rate": demo.task_rate}
        )
        for activity in ("training", "guidelines"):
            rate_create(
                actor=admin, fields={**common, "activity": activity, "hourly_rate": demo.activity_rate}
            )
        last_monday = _last_monday()
        for weekday, start, end, activity, tasks in PIECE_RATE_WEEK:
            day = last_monday + timedelta(days=weekday)
            session_create(
                actor=admin,
                worker=worker,
                project=ranking,
                activity=activity,
                started_at=datetime.combine(day, start, tzinfo=worker.zone),
                ended_at=datetime.combine(day, end, tzinfo=worker.zone),
                task_count=tasks,
                notes=DEMO_NOTES,
            )

    def _timesheets(self, projects: list[Project], manager: User, admin: User) -> None:
        """Give every web page something real: an invoice, an approved and a submitted week.

        Lena: the week before last invoiced, last week approved (finance can invoice it);
        Priya: last week submitted (in Maria's approval queue); Carlos: last week open.
        """
        if Timesheet.objects.exclude(status=TimesheetStatus.OPEN).exists():  # seeded before
            return
        finance = User.objects.get(username="fiona")
        lena, priya = Worker.objects.get(user__username="lena"), Worker.objects.get(user__username="priya")
        monday = _last_monday() - timedelta(days=7)  # the week before last
        for offset in range(4):
            day = monday + timedelta(days=offset)
            session_create(
                actor=admin,
                worker=lena,
                project=projects[offset % 2],
                started_at=datetime.combine(day, time(8, 30), tzinfo=lena.zone),
                ended_at=datetime.combine(day, time(16, 0), tzinfo=lena.zone),
                task_count=55 + offset,
                notes=DEMO_NOTES,
            )
        invoice_issue(timesheet=self._decide(lena, week_key(monday), manager), actor=finance)
        last_week = week_key(monday + timedelta(days=7))
        self._decide(lena, last_week, manager)
        self._decide(priya, last_week, None)

    def _decide(self, worker: Worker, period: str, manager: User | None) -> Timesheet:
        timesheet, _ = timesheet_get_or_create(worker=worker, period=period)
        timesheet = timesheet_transition(actor=worker.user, timesheet=timesheet, action="submit")
        if manager is not None:
            timesheet = timesheet_transition(
                actor=manager, timesheet=timesheet, action="approve", note="Thanks."
            )
        return timesheet

    def _print_logins(self) -> None:
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Logins (password for all: {DEMO_PASSWORD}):"))
        rows = [
            ("admin", "admin", "everything, Django admin at /admin/"),
            ("fiona", "finance", "rates, all pay data"),
            ("maria", "manager", "Team Alpha"),
            ("carlos", "contractor", "America/Chicago, 15.00 USD/h"),
            ("priya", "contractor", "Asia/Kolkata, 12.50 USD/h"),
            ("lena", "contractor", "Europe/Berlin, 18.00 EUR/h, overtime after 40 h"),
            ("tomas", "contractor", "America/Sao_Paulo, 0.35 USD per task, floor 15.00 USD/h"),
        ]
        for username, role, what in rows:
            self.stdout.write(f"  {username:<8} {role:<11} {what}")


def _last_monday() -> date:
    """The Monday of last week by UTC's calendar: one ISO week for every demo contractor.

    Near midnight UTC the local "last week" of Chicago and of Kolkata would differ, and
    the demo's timesheets must share a period whatever the hour. Its Friday is always past.
    """
    today = timezone.now().date()
    return today - timedelta(days=today.weekday() + 7)
