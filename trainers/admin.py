"""Django admin for people and sessions; history of workers and sessions is shown.

Sessions are read-only here: the §1 rules (overlap, locks, length) live in the services.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from trainers.models import LabellingSession, Project, Role, Team, User, Worker
from trainers.services.people import worker_update

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


class FairhourUserChangeForm(UserChangeForm):  # type: ignore[type-arg]
    def clean_role(self) -> str:
        """Keep one active admin: the last one cannot be demoted (nobody could undo it)."""
        role = self.cleaned_data["role"]
        was_admin = self.instance.pk is not None and self.instance.role == Role.ADMIN
        if was_admin and role != Role.ADMIN:
            others = User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=self.instance.pk)
            if not others.exists():
                raise forms.ValidationError("This is the last active admin; make another admin first.")
        return str(role)


@admin.register(User)
class FairhourUserAdmin(UserAdmin):
    """Django's rights follow the role: an admin is staff and superuser, nobody else is."""

    form = FairhourUserChangeForm
    list_display = ("username", "email", "role", "is_active", "is_staff")
    list_filter = ("role", "is_active", "is_staff")
    fieldsets = (*UserAdmin.fieldsets, ("Fairhour", {"fields": ("role",)}))  # type: ignore[misc]
    add_fieldsets = (*UserAdmin.add_fieldsets, ("Fairhour", {"fields": ("role",)}))
    readonly_fields = ("is_staff", "is_superuser")

    def save_model(self, request: Any, obj: User, form: Any, change: bool) -> None:
        """Save, with is_staff and is_superuser set from the role (as user_create sets them)."""
        obj.take_rights_of_role()
        super().save_model(request, obj, form, change)


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
        """The user never changes, and contract terms only through worker_update (payroll's checks)."""
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, "user", *CONTRACT_TERMS) if obj is not None else readonly

    def save_model(self, request: Any, obj: Worker, form: Any, change: bool) -> None:
        """A change goes through worker_update, so payroll follows it (a new team, say)."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        changes = {field: form.cleaned_data[field] for field in form.changed_data}
        worker_update(actor=request.user, worker=obj, changes=changes)


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
