"""API token authentication that reads the caller's worker profile in the same query."""

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from trainers import plain_sql
from trainers.models import Project, User, Worker

# Every API request runs this, so it is plain SQL (a fraction of the ORM's Python) and a
# prepared statement on PostgreSQL (planning it took three times as long as running it;
# README, "Benchmarks"). The token is read on every request: no cache, so a deleted token
# or a deactivated user stops working at once. The project is the one a manual entry names
# (the busiest request, trainers.api_session_entry), joined only if the caller's worker is
# assigned to it: for a contractor that is exactly the projects the API lets them see.
CALLER_SQL = (
    "SELECT {token}, {user}, {worker}, {project}"
    " FROM authtoken_token t JOIN trainers_user u ON u.id = t.user_id"
    " LEFT JOIN trainers_worker w ON w.user_id = u.id"
    " LEFT JOIN trainers_project p ON p.id = %s AND EXISTS (SELECT 1 FROM trainers_project_workers a"
    " WHERE a.project_id = p.id AND a.worker_id = w.id)"
    " WHERE t.key = %s"
)
_WORKER_OF_USER = User._meta.get_field("worker")
_USER_OF_TOKEN = Token._meta.get_field("user")


@dataclass(frozen=True)
class Caller:
    """Who holds a token: the user, their worker profile, and the project asked about if on it."""

    token: Token
    user: User
    worker: Worker | None
    project: Project | None


def caller_of_token(key: str, *, project_id: int | None = None) -> Caller | None:
    """Read a token, its user, their worker and project `project_id` if they are on it; None if unknown."""
    if "\x00" in key:  # PostgreSQL cannot take it as text (a 500); no token has one
        return None
    with connection.cursor() as cursor:
        plain_sql.execute(cursor, "fairhour_token_caller", _caller_sql(), [project_id, key])
        row = cursor.fetchone()
    if row is None:
        return None
    token_end = plain_sql.width(Token)
    user_end = token_end + plain_sql.width(User)
    worker_end = user_end + plain_sql.width(Worker)
    token = plain_sql.instance(Token, row[:token_end])
    user = plain_sql.instance(User, row[token_end:user_end])
    worker = plain_sql.instance(Worker, row[user_end:worker_end]) if row[user_end] is not None else None
    project = plain_sql.instance(Project, row[worker_end:]) if row[worker_end] is not None else None
    _USER_OF_TOKEN.set_cached_value(token, user)
    _WORKER_OF_USER.set_cached_value(user, worker)  # worker_of() reads it from here
    return Caller(token, user, worker, project)


@cache
def _caller_sql() -> str:
    return CALLER_SQL.format(
        token=plain_sql.columns(Token, "t"),
        user=plain_sql.columns(User, "u"),
        worker=plain_sql.columns(Worker, "w"),
        project=plain_sql.columns(Project, "p"),
    )


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token check; the user's worker profile is joined in, so `worker_of` needs no query."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        """Return (user, token) for a valid key; the same refusals and words as DRF's."""
        caller = caller_of_token(key)
        if caller is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not caller.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (caller.user, caller.token)
