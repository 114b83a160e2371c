"""Helpers shared by the API tests: sending a request, refusals that name their field and write nothing."""

from typing import Any

from django.apps import apps

# Every table of ours a request could write to: people, sessions, pay, history, jobs.
# (API tokens are left out: the tests' clients get theirs as they are built.)
WRITTEN_APPS = ("trainers", "payroll")


def send(client: Any, method: str, path: str, body: dict | None = None) -> Any:
    """Send one request; bodies go as JSON."""
    if method == "GET":
        return client.get(path)
    return getattr(client, method.lower())(path, body or {}, format="json")


def row_counts() -> dict[str, int]:
    """Rows of every table a bad request might write to (every model of our apps)."""
    return {
        model.__name__: model._default_manager.count()
        for label in WRITTEN_APPS
        for model in apps.get_app_config(label).get_models()
        if not model._meta.proxy
    }


def assert_refused(response: Any, status: int, field: str) -> None:
    """The status is right and the JSON body names `field` with at least one message."""
    assert response.status_code == status, (response.status_code, response.content[:800])
    body = response.json()
    assert field in body, body
    messages = body[field]
    if field == "detail":
        assert isinstance(messages, str) and messages, body
    else:
        assert isinstance(messages, list) and messages, body
        assert all(isinstance(message, str) and message for message in messages), body
