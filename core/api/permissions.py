"""Role checks for API views: which roles may read, write, or run each action."""

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request


class RoleAccess(BasePermission):
    """Allow a signed-in user whose role the view lists for this action or method.

    Views declare `read_roles`, `write_roles` and optionally `action_roles` (by action
    name); what a view does not list, no role may do. Which rows a role sees is the
    selectors' job: this only gates the verb.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        """Return whether the caller's role may use this action."""
        user = request.user
        if not user or not user.is_authenticated:
            return False
        action_roles = getattr(view, "action_roles", {})
        action = getattr(view, "action", None)
        if action in action_roles:
            roles = action_roles[action]
        elif request.method in SAFE_METHODS:
            roles = getattr(view, "read_roles", frozenset())
        else:
            roles = getattr(view, "write_roles", frozenset())
        return user.role in roles
