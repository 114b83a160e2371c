"""Shapes of the people and session API: input validation and output, no rules."""

from typing import Any, cast

from django.db import models
from rest_framework import serializers

from core.api.fields import AwareDateTimeField, IdField, StrictModelSerializer
from trainers import rules
from trainers.models import (
    MAX_NOTES_LENGTH,
    MAX_TASK_COUNT,
    Activity,
    Project,
    Role,
    SessionSource,
    Team,
    User,
    Worker,
)
from trainers.selectors import projects_visible_to, workers_visible_to
from trainers.validators import PLAIN_NUMBER_MESSAGE, is_plain_number

PADDED_NUMBER_MESSAGE = "Write the number with no spaces around it, e.g. 12.50."


def plain_number(data: Any) -> Any:
    """`data` if it is a JSON number or a plain ASCII number in text, with nothing around it.

    DRF strips text before reading a number, so " 5" passed where "5 " did not; one form is
    accepted and everything else is refused with its reason.
    """
    if isinstance(data, str) and data != data.strip():
        raise serializers.ValidationError(PADDED_NUMBER_MESSAGE, code="invalid")
    if not is_plain_number(data):
        raise serializers.ValidationError(PLAIN_NUMBER_MESSAGE, code="invalid")
    return data


class PlainIntegerField(serializers.IntegerField):
    """A whole number in ASCII digits ("1_0" or other scripts' digits are refused, like the import)."""

    def to_internal_value(self, data: Any) -> int:
        return super().to_internal_value(plain_number(data))


class PlainDecimalField(serializers.DecimalField):
    """A decimal in ASCII digits and a dot: money is never read from "1_000" or other scripts' digits."""

    def to_internal_value(self, data: Any) -> Any:
        return super().to_internal_value(plain_number(data))


def caller(serializer: serializers.BaseSerializer) -> User:
    """Return the signed-in user of the request in the serializer's context."""
    return serializer.context["request"].user


class UserSerializer(StrictModelSerializer):
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = User
        fields = ["id", "username", "email", "role", "password"]


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    role = serializers.CharField()
    worker = serializers.IntegerField(allow_null=True)
    time_zone = serializers.CharField()


class TeamSerializer(StrictModelSerializer):
    managers = IdField(many=True, queryset=User.objects.filter(role__in=[Role.MANAGER, Role.ADMIN]))

    class Meta:
        model = Team
        fields = ["id", "name", "managers"]


class WorkerSerializer(StrictModelSerializer):
    # The contract's numbers (tax rate, overtime) are read as plainly as money.
    serializer_field_mapping = {
        **StrictModelSerializer.serializer_field_mapping,
        models.DecimalField: PlainDecimalField,
    }
    user = IdField(queryset=User.objects.filter(role=Role.CONTRACTOR))

    class Meta:
        model = Worker
        fields = [
            "id",
            "user",
            "full_name",
            "email",
            "time_zone",
            "team",
            "currency",
            "overtime_after_hours",
            "overtime_multiplier",
            "tax_rate",
            "weekly_hours_cap",
            "minimum_hourly",
            "is_active",
        ]


class ProjectSerializer(StrictModelSerializer):
    workers = IdField(many=True, queryset=Worker.objects.none(), required=False)

    class Meta:
        model = Project
        fields = ["id", "name", "client", "is_active", "workers"]
        # Unique (client, name) is checked by project_save, which names the field.
        validators: list[Any] = []

    def get_fields(self) -> dict[str, Any]:
        """Offer only workers the caller may see."""
        fields: dict[str, Any] = super().get_fields()
        fields["workers"].child_relation.queryset = workers_visible_to(caller(self))
        return fields

    def to_representation(self, instance: Project) -> dict[str, Any]:
        """List only the assigned workers the caller may see (contractors see themselves)."""
        data = super().to_representation(instance)
        data["workers"] = [pk for pk in data["workers"] if pk in self._visible_worker_ids()]
        return data

    def _visible_worker_ids(self) -> set[int]:
        """Read once per request, not once per project of a list (the context lives as long)."""
        context = cast(dict[str, Any], self.context)  # the view's own dict, shared by every row
        if "visible_worker_ids" not in context:
            context["visible_worker_ids"] = set(workers_visible_to(caller(self)).values_list("pk", flat=True))
        return cast(set[int], context["visible_worker_ids"])


# Fields declared, not read from the model: the busiest request (`POST /sessions/`) then
# builds no fields from the model's metadata each time (a ModelSerializer did, per request).
def activity_field(**kwargs: Any) -> serializers.ChoiceField:
    """A session's activity (PAY_RULES §8): one of six words; an unknown one names the list."""
    return serializers.ChoiceField(
        choices=Activity.choices,
        error_messages={"invalid_choice": rules.activity_message("{input}")},
        help_text="What the time was spent on; all of it is paid working time.",
        **kwargs,
    )


class SessionSerializer(serializers.Serializer):
    id = serializers.IntegerField(label="ID", read_only=True)
    worker = serializers.IntegerField(source="worker_id", read_only=True)
    project = IdField(queryset=Project.objects.none())
    activity = activity_field(default=Activity.LABELLING)
    started_at = AwareDateTimeField()
    ended_at = AwareDateTimeField()
    task_count = PlainIntegerField(min_value=0, max_value=MAX_TASK_COUNT, default=0)
    notes = serializers.CharField(max_length=MAX_NOTES_LENGTH, allow_blank=True, default="")
    # DRF pops declared fields off the class, so this never shadows Field.source (mypy cannot know)
    source = serializers.ChoiceField(choices=SessionSource.choices, read_only=True)  # type: ignore[assignment]
    needs_review = serializers.BooleanField(
        read_only=True, help_text="Set when Fairhour stopped the timer at the maximum length."
    )
    period = serializers.CharField(read_only=True)
    duration_seconds = serializers.IntegerField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_fields(self) -> dict[str, Any]:
        """Offer only projects the caller may see, so foreign ids stay hidden."""
        fields: dict[str, Any] = super().get_fields()
        fields["project"].queryset = projects_visible_to(caller(self))
        return fields


class SessionStartSerializer(serializers.Serializer):
    project = IdField(queryset=Project.objects.none())
    activity = activity_field(default=Activity.LABELLING)
    notes = serializers.CharField(max_length=MAX_NOTES_LENGTH, allow_blank=True, default="")

    def get_fields(self) -> dict[str, Any]:
        """Offer only projects the caller may see."""
        fields: dict[str, Any] = super().get_fields()
        fields["project"].queryset = projects_visible_to(caller(self))
        return fields


class SessionDiscardedSerializer(serializers.Serializer):
    """The answer to a timer stopped in its first second: it was discarded, not recorded."""

    id = serializers.IntegerField()
    discarded = serializers.BooleanField()
    detail = serializers.CharField()


class SessionStopSerializer(serializers.Serializer):
    task_count = PlainIntegerField(min_value=0, max_value=MAX_TASK_COUNT, required=False)


class ImportResultSerializer(serializers.Serializer):
    imported = serializers.IntegerField()


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(help_text="When the token ends unless it is used before (then later).")


def _password_field() -> serializers.CharField:
    return serializers.CharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = _password_field()
    new_password = _password_field()


class PasswordResetRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()
