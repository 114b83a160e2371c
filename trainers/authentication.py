"""API token authentication that reads the caller's worker profile in the same query."""

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from trainers import plain_sql
from trainers.models import User, Worker

# Every API request runs this, so it is plain SQL (a fraction of the ORM's Python) and a
# prepared statement on PostgreSQL (planning it took three times as long as running it;
# README, "Benchmarks"). The token is read on every request: no cache, so a deleted token
# or a deactivated user stops working at once.
CALLER_SQL = (
    "SELECT {token}, {user}, {worker}"
    " FROM authtoken_token t JOIN trainers_user u ON u.id = t.user_id"
    " LEFT JOIN trainers_worker w ON w.user_id = u.id"
    " WHERE t.key = %s"
)
_WORKER_OF_USER = User._meta.get_field("worker")
_USER_OF_TOKEN = Token._meta.get_field("user")


@dataclass(frozen=True)
class Caller:
    """Who holds a token: the user and their worker profile."""

    token: Token
    user: User
    worker: Worker | None


def caller_of_token(key: str) -> Caller | None:
    """Read a token with its user and their worker profile in one query; None for an unknown key."""
    with connection.cursor() as cursor:
        plain_sql.execute(cursor, "fairhour_token_caller", _caller_sql(), [key])
        row = cursor.fetchone()
    if row is None:
        return None
    token_end = plain_sql.width(Token)
    user_end = token_end + plain_sql.width(User)
    token = plain_sql.instance(Token, row[:token_end])
    user = plain_sql.instance(User, row[token_end:user_end])
    worker = plain_sql.instance(Worker, row[user_end:]) if row[user_end] is not None else None
    _USER_OF_TOKEN.set_cached_value(token, user)
    _WORKER_OF_USER.set_cached_value(user, worker)  # worker_of() reads it from here
    return Caller(token, user, worker)


@cache
def _caller_sql() -> str:
    return CALLER_SQL.format(
        token=plain_sql.columns(Token, "t"),
        user=plain_sql.columns(User, "u"),
        worker=plain_sql.columns(Worker, "w"),
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
