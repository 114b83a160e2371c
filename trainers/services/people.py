"""Writes to users, teams, workers and projects (admin and finance work)."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.db import locks
from core.errors import Conflict, Forbidden, InvalidInput
from trainers.hooks import contract_change_refusal, worker_changed
from trainers.models import Project, Role, Team, User, Worker

PEOPLE_ADMINS = frozenset({Role.ADMIN})
CONTRACT_ADMINS = frozenset({Role.ADMIN, Role.FINANCE})
DUPLICATE_PROJECT = "This client already has a project with that name."


def ensure_role(actor: User, allowed: Iterable[str]) -> None:
    """Refuse with 403 unless the actor has one of the allowed roles."""
    if actor.role not in allowed:
        raise Forbidden(f"The {actor.role} role may not do this.")


def user_create(*, actor: User, username: str, password: str, role: str, email: str = "") -> User:
    """Create a sign-in with a role; the password must pass Django's validators."""
    ensure_role(actor, PEOPLE_ADMINS)
    if User.objects.filter(username__iexact=username).exists():
        raise InvalidInput({"username": ["A user with that username already exists."]})
    user = User(username=username, email=email, role=role)
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise InvalidInput({"password": error.messages}) from error
    user.set_password(password)
    user.take_rights_of_role()
    user.save()
    return user


@transaction.atomic
def team_save(*, actor: User, team: Team | None, name: str, managers: Iterable[User]) -> Team:
    """Create or update a team; every manager must have the manager (or admin) role."""
    ensure_role(actor, PEOPLE_ADMINS)
    managers = list(managers)
    wrong = [m.username for m in managers if m.role not in (Role.MANAGER, Role.ADMIN)]
    if wrong:
        raise InvalidInput({"managers": [f"Not a manager: {', '.join(wrong)}."]})
    team = team or Team()
    team.name = name
    team.save()
    team.managers.set(managers)
    return team


@transaction.atomic
def worker_create(*, actor: User, fields: Mapping[str, Any]) -> Worker:
    """Create a contractor's profile for a user with the contractor role."""
    ensure_role(actor, CONTRACT_ADMINS)
    user = fields["user"]
    if user.role != Role.CONTRACTOR:
        raise InvalidInput({"user": ["Only users with the contractor role can be workers."]})
    if Worker.objects.filter(user=user).exists():
        raise InvalidInput({"user": ["This user already has a worker profile."]})
    worker = Worker(**fields)
    worker._history_user = actor  # type: ignore[attr-defined]
    worker.save()
    return worker


@transaction.atomic
def worker_update(*, actor: User, worker: Worker, changes: Mapping[str, Any]) -> Worker:
    """Change a worker's profile or contract terms; the user link never changes."""
    ensure_role(actor, CONTRACT_ADMINS)
    worker = locks.worker(worker.pk)
    if "user" in changes and changes["user"] != worker.user:
        raise InvalidInput({"user": ["The user of a worker cannot change."]})
    previous = {
        field: getattr(worker, field) for field, value in changes.items() if getattr(worker, field) != value
    }
    changed = set(previous)
    for field in sorted(changed):
        refusal = contract_change_refusal(worker, field, changes[field])
        if refusal:
            raise Conflict(refusal)
    for field, value in changes.items():
        setattr(worker, field, value)
    worker._history_user = actor  # type: ignore[attr-defined]
    worker.save()
    worker_changed(worker, previous)
    return worker


@transaction.atomic
def project_save(
    *,
    actor: User,
    project: Project | None,
    fields: Mapping[str, Any],
    workers: Iterable[Worker] | None = None,
) -> Project:
    """Create or update a project and, if given, the set of assigned workers."""
    ensure_role(actor, CONTRACT_ADMINS)
    project = project or Project()
    for field, value in fields.items():
        setattr(project, field, value)
    clash = Project.objects.filter(client=project.client, name=project.name).exclude(pk=project.pk)
    if clash.exists():
        raise InvalidInput({"name": [DUPLICATE_PROJECT]})
    try:
        with transaction.atomic():
            project.save()
    except IntegrityError as error:  # a concurrent save won the race past the check above
        raise InvalidInput({"name": [DUPLICATE_PROJECT]}) from error
    if workers is not None:
        project.workers.set(workers)
    return project
