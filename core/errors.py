"""Domain errors raised by services; core.api.exceptions maps each to one HTTP status.

payroll raises these too (it depends on trainers), so a client sees one error shape.
"""

from collections.abc import Mapping, Sequence
from typing import Any


class DomainError(Exception):
    """A rule of Fairhour refused the request."""


class InvalidInput(DomainError):
    """Input breaks a rule: 400 with `{field: [messages]}`."""

    def __init__(self, errors: Mapping[str, Sequence[Any] | str]) -> None:
        self.errors = {
            field: [messages] if isinstance(messages, str) else list(messages)
            for field, messages in errors.items()
        }
        super().__init__(self.errors)


class Conflict(DomainError):
    """The request clashes with the current state (a lock, a running timer): 409."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class Forbidden(DomainError):
    """The caller may see the object but not do this to it: 403."""

    def __init__(self, message: str = "You may not do this.") -> None:
        self.message = message
        super().__init__(message)


class NotFound(DomainError):
    """The object does not exist for this caller: 404."""

    def __init__(self, message: str = "Not found.") -> None:
        self.message = message
        super().__init__(message)
