"""Django admin for people and sessions; history of workers and sessions is shown.

Sessions are read-only here: the §1 rules (overlap, locks, length) live in the services.
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from trainers.models import LabellingSession, Project, Team, User, Worker

# A worker's fields whose change payroll may refuse or must follow (trainers/hooks.py): here
# they are read-only once the worker exists, so the admin cannot go around those checks.
CONTRACT_TERMS = ("currency", "time_zone")


class ReadOnlyAdminMixin:
    """Show rows and their history; changes go through the API so every rule applies."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(User)
class FairhourUserAdmin(UserAdmin):
    list_display = ("username", "email", "role", "is_active", "is_staff")
    list_filter = ("role", "is_active", "is_staff")
    fieldsets = (*UserAdmin.fieldsets, ("Fairhour", {"fields": ("role",)}))  # type: ignore[misc]
    add_fieldsets = (*UserAdmin.add_fieldsets, ("Fairhour", {"fields": ("role",)}))


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name",)
    filter_horizontal = ("managers",)


@admin.register(Worker)
class WorkerAdmin(SimpleHistoryAdmin):
    list_display = ("full_name", "email", "time_zone", "team", "currency", "is_active")
    list_filter = ("is_active", "team", "currency")
    search_fields = ("full_name", "email", "user__username")

    def get_readonly_fields(self, request: Any, obj: Worker | None = None) -> Any:
        """Contract terms change through the API or worker_update only, which run payroll's checks."""
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, *CONTRACT_TERMS) if obj is not None else readonly


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "client", "is_active")
    list_filter = ("is_active",)
    filter_horizontal = ("workers",)


@admin.register(LabellingSession)
class LabellingSessionAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("id", "worker", "project", "started_at", "ended_at", "source", "needs_review")
    list_filter = ("source", "needs_review", "project")
    search_fields = ("worker__full_name", "notes")
    raw_id_fields = ("worker", "project")
    date_hierarchy = "started_at"
