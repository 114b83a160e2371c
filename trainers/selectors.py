"""Every read of people and sessions, scoped by the caller's role.

A caller never gets a row they may not see: the API turns "not in this queryset" into
404, and list endpoints return only these rows.
"""

from collections.abc import Iterable
from typing import cast

from django.db.models import Q, QuerySet

from core.periods import period_bounds_by_zone
from trainers.models import LabellingSession, Project, Role, Team, User, Worker

SEES_EVERYTHING = frozenset({Role.ADMIN, Role.FINANCE})


def role_of(user: object) -> str | None:
    """Return a signed-in user's role; None for anonymous callers (who see nothing)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "role", None)


def users_visible_to(user: User) -> QuerySet[User]:
    """Admins see every user; anyone else only themselves."""
    if role_of(user) == Role.ADMIN:
        return User.objects.all().order_by("id")
    return User.objects.filter(pk=user.pk) if role_of(user) else User.objects.none()


def teams_visible_to(user: User) -> QuerySet[Team]:
    """Admin and finance see all teams; managers the teams they manage."""
    if role_of(user) in SEES_EVERYTHING:
        return Team.objects.all().order_by("id")
    if role_of(user) == Role.MANAGER:
        return Team.objects.filter(managers=user).order_by("id")
    return Team.objects.none()


def workers_visible_to(user: User) -> QuerySet[Worker]:
    """Admin and finance see all; managers their teams' workers; a contractor themself."""
    workers = Worker.objects.select_related("user", "team").order_by("id")
    if role_of(user) in SEES_EVERYTHING:
        return workers
    if role_of(user) == Role.MANAGER:
        return workers.filter(team__managers=user).distinct()
    return workers.filter(user=user) if role_of(user) else workers.none()


def projects_visible_to(user: User) -> QuerySet[Project]:
    """Admin and finance see all; managers those their workers are on; a contractor theirs."""
    projects = Project.objects.order_by("id")
    if role_of(user) in SEES_EVERYTHING:
        return projects
    if role_of(user) == Role.MANAGER:
        return projects.filter(workers__team__managers=user).distinct()
    # No DISTINCT: a user has one worker profile and a worker is on a project at most once.
    return projects.filter(workers__user=user) if role_of(user) else projects.none()


def sessions_visible_to(user: User) -> QuerySet[LabellingSession]:
    """Admin and finance see all; managers their teams' sessions; a contractor their own."""
    sessions = LabellingSession.objects.select_related("worker", "project")
    if role_of(user) in SEES_EVERYTHING:
        return sessions
    if role_of(user) == Role.MANAGER:
        return sessions.filter(worker__team__managers=user)
    return sessions.filter(worker__user=user) if role_of(user) else sessions.none()


def manages_worker(user: User, worker: Worker) -> bool:
    """Whether the user is a manager of the worker's team."""
    return manages_teams(user, [worker.team_id])


def manages_teams(user: User, team_ids: Iterable[int | None]) -> bool:
    """Whether the user is a manager of each of these teams (one query; no team has none)."""
    teams = set(team_ids)
    known = {team for team in teams if team is not None}
    return len(known) == len(teams) and Team.objects.filter(pk__in=known, managers=user).count() == len(known)


def sessions_starting_in_period(
    sessions: QuerySet[LabellingSession], period: str
) -> QuerySet[LabellingSession]:
    """Keep sessions that start in `period`, each read in its own worker's time zone."""
    zones = sessions.order_by().values_list("worker__time_zone", flat=True).distinct()
    condition = Q(pk__in=[])
    for zone_name, (start, end) in period_bounds_by_zone(period, zones).items():
        condition |= Q(worker__time_zone=zone_name, started_at__gte=start, started_at__lt=end)
    return sessions.filter(condition)


def zones_in_use() -> list[str]:
    """The time zones of all workers, each once: where a period starts and ends somewhere."""
    return list(Worker.objects.order_by().values_list("time_zone", flat=True).distinct())


def worker_of(user: User) -> Worker | None:
    """Return the user's worker profile, or None for people who do not log time.

    Token authentication joins the profile in (trainers.authentication); then it is not
    read again.
    """
    if not role_of(user):
        return None
    if _WORKER_OF_USER.is_cached(user):
        return cast(Worker | None, _WORKER_OF_USER.get_cached_value(user))
    return Worker.objects.filter(user=user).first()


_WORKER_OF_USER = User._meta.get_field("worker")  # the reverse one-to-one, and its cache
