"""factory_boy factories for both apps (one module: payroll's factories build on trainers')."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from knox.models import AuthToken

from payroll.models import Rate, Timesheet
from trainers.models import LabellingSession, Project, Role, SessionSource, Team, User, Worker


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.CONTRACTOR
    password = factory.django.Password("correct-horse-battery")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")

    @factory.post_generation
    def managers(self, create, extracted, **kwargs):
        if create and extracted:
            self.managers.set(extracted)


class WorkerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Worker

    user = factory.SubFactory(UserFactory, role=Role.CONTRACTOR)
    full_name = factory.LazyAttribute(lambda w: f"Worker {w.user.username}")
    email = factory.LazyAttribute(lambda w: w.user.email)
    time_zone = "America/Chicago"
    currency = "USD"


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Project {n}")
    client = "Acme AI"

    @factory.post_generation
    def workers(self, create, extracted, **kwargs):
        if create and extracted:
            self.workers.set(extracted)


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LabellingSession

    worker = factory.SubFactory(WorkerFactory)
    project = factory.LazyAttribute(lambda s: ProjectFactory(workers=[s.worker]))
    started_at = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    ended_at = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)
    source = SessionSource.MANUAL


class RateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rate

    worker = factory.SubFactory(WorkerFactory)
    project = None
    hourly_rate = Decimal("15.00")
    currency = factory.LazyAttribute(lambda r: r.worker.currency)
    effective_from = date(2026, 1, 1)


def api_token(user: User) -> str:
    """The key of a new API token for `user` (knox stores only its digest, so only now is it known)."""
    return AuthToken.objects.create(user=user)[1]


def chicago_contractor(username: str) -> Worker:
    """A worked example's contractor: America/Chicago, on "Project A", no time logged yet.

    Their team has a manager of its own, `manager_<username>`.
    """
    manager = UserFactory(username=f"manager_{username}", role=Role.MANAGER)
    worker = WorkerFactory(
        user__username=username, time_zone="America/Chicago", team=TeamFactory(managers=[manager])
    )
    ProjectFactory(name="Project A", workers=[worker])
    return worker


def give_time(timesheet: Timesheet) -> None:
    """An hour in the week if it has none, priced: a week with nothing in it is never submitted.

    A worker with no rate yet gets one from that week on, for that hour's project.
    """
    week = {"started_at__lt": timesheet.period_end, "ended_at__gt": timesheet.period_start}
    if LabellingSession.objects.filter(worker=timesheet.worker, **week).exists():
        return
    start = timesheet.period_start + timedelta(hours=1)
    session = SessionFactory(worker=timesheet.worker, started_at=start, ended_at=start + timedelta(hours=1))
    if not Rate.objects.filter(worker=timesheet.worker).exists():
        day = timezone.localtime(start, timesheet.worker.zone).date()
        RateFactory(worker=timesheet.worker, project=session.project, effective_from=day)
