"""Thin DRF views over the trainers services and selectors."""

from typing import Any, cast

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiRequest, PolymorphicProxySerializer, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.parsers import SafeJSONParser
from core.api.permissions import RoleAccess
from trainers import selectors
from trainers.filters import ProjectFilter, SessionFilter, WorkerFilter
from trainers.models import ALL_ROLES, LabellingSession, Role, User
from trainers.rules import DISCARDED_MESSAGE
from trainers.serializers import (
    ImportResultSerializer,
    MeSerializer,
    ProjectSerializer,
    SessionDiscardedSerializer,
    SessionSerializer,
    SessionStartSerializer,
    SessionStopSerializer,
    TeamSerializer,
    UserSerializer,
    WorkerSerializer,
)
from trainers.services import people, sessions
from trainers.services.session_import import sessions_import

ADMIN = frozenset({Role.ADMIN})
ADMIN_FINANCE = frozenset({Role.ADMIN, Role.FINANCE})
CONTRACTOR = frozenset({Role.CONTRACTOR})
ID_PATTERN = r"[0-9]{1,18}"


class MeView(APIView):
    """Who the caller is."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        """Return the caller's id, role, worker and time zone."""
        user = cast(User, request.user)
        worker = selectors.worker_of(user)
        data = {
            "id": user.pk,
            "username": user.username,
            "role": user.role,
            "worker": worker.pk if worker else None,
            "time_zone": worker.time_zone if worker else "UTC",
        }
        return Response(MeSerializer(data).data)


class ScopedViewSet(viewsets.GenericViewSet):
    """A viewset whose rows come from a role-scoped selector and whose verbs are role-gated."""

    permission_classes = [RoleAccess]
    lookup_value_regex = ID_PATTERN
    read_roles: frozenset[str] = ALL_ROLES
    write_roles: frozenset[str] = frozenset()

    @property
    def actor(self) -> User:
        """The signed-in caller (RoleAccess has already refused anonymous requests)."""
        return cast(User, self.request.user)


class KeptViewSet(viewsets.ModelViewSet, ScopedViewSet):
    """Create, read and update, but no DELETE: workers, sessions and pay point at these rows."""

    http_method_names = ["get", "post", "put", "patch", "head", "options"]


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    """Sign-ins and their roles (admin only)."""

    serializer_class = UserSerializer
    read_roles = ADMIN
    write_roles = ADMIN

    def get_queryset(self) -> QuerySet:
        return selectors.users_visible_to(self.actor)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = people.user_create(actor=self.actor, **serializer.validated_data)


class TeamViewSet(KeptViewSet):
    """Teams and their managers: admin writes, managers read their own."""

    serializer_class = TeamSerializer
    read_roles = frozenset({Role.ADMIN, Role.FINANCE, Role.MANAGER})
    write_roles = ADMIN

    def get_queryset(self) -> QuerySet:
        return selectors.teams_visible_to(self.actor).prefetch_related("managers")

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = people.team_save(actor=self.actor, team=None, **serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        data = {"name": serializer.instance.name, "managers": serializer.instance.managers.all()}
        data.update(serializer.validated_data)
        serializer.instance = people.team_save(actor=self.actor, team=serializer.instance, **data)


class WorkerViewSet(KeptViewSet):
    """Contractor profiles and contract terms."""

    serializer_class = WorkerSerializer
    filterset_class = WorkerFilter
    write_roles = ADMIN_FINANCE

    def get_queryset(self) -> QuerySet:
        return selectors.workers_visible_to(self.actor)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = people.worker_create(actor=self.actor, fields=serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = people.worker_update(
            actor=self.actor, worker=serializer.instance, changes=serializer.validated_data
        )


class ProjectViewSet(KeptViewSet):
    """Projects and the workers assigned to them."""

    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    write_roles = ADMIN_FINANCE

    def get_queryset(self) -> QuerySet:
        return selectors.projects_visible_to(self.actor).prefetch_related("workers")

    def perform_create(self, serializer: Any) -> None:
        self._save(serializer, project=None)

    def perform_update(self, serializer: Any) -> None:
        self._save(serializer, project=serializer.instance)

    def _save(self, serializer: Any, project: Any) -> None:
        fields = dict(serializer.validated_data)
        workers = fields.pop("workers", None)
        serializer.instance = people.project_save(
            actor=self.actor, project=project, fields=fields, workers=workers
        )


class CSVParser(BaseParser):
    """Take a text/csv body as raw bytes; the import service decodes and validates it."""

    media_type = "text/csv"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        """Return the body unchanged."""
        return stream.read() if stream else b""


class SessionViewSet(viewsets.ModelViewSet, ScopedViewSet):
    """Labelling sessions: contractors write their own; managers, finance and admins read."""

    serializer_class = SessionSerializer
    filterset_class = SessionFilter
    write_roles = CONTRACTOR
    action_roles = {
        "start": CONTRACTOR,
        "stop": CONTRACTOR,
        "import_csv": frozenset({Role.CONTRACTOR, Role.ADMIN}),
    }

    def get_queryset(self) -> QuerySet:
        return selectors.sessions_visible_to(self.actor).order_by("-started_at", "-id")

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = sessions.session_create(
            actor=self.actor, worker=self._own_worker(), **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = sessions.session_update(
            actor=self.actor, session=serializer.instance, changes=serializer.validated_data
        )

    def perform_destroy(self, instance: LabellingSession) -> None:
        sessions.session_delete(actor=self.actor, session=instance)

    @extend_schema(request=SessionStartSerializer, responses={201: SessionSerializer})
    @action(detail=False, methods=["post"])
    def start(self, request: Request) -> Response:
        """Start the timer on a project; 409 if one is already running."""
        form = SessionStartSerializer(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        session = sessions.session_start(actor=self.actor, worker=self._own_worker(), **form.validated_data)
        return Response(self.get_serializer(session).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=SessionStopSerializer,
        responses=PolymorphicProxySerializer(
            component_name="SessionStopped",
            serializers=[SessionSerializer, SessionDiscardedSerializer],
            resource_type_field_name=None,
        ),
    )
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, pk: str | None = None) -> Response:
        """Stop the running session now; in its first second it is discarded (`{id, discarded, detail}`)."""
        form = SessionStopSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        timer = self.get_object()
        session = sessions.session_stop(actor=self.actor, session=timer, **form.validated_data)
        if session is None:
            return Response({"id": timer.pk, "discarded": True, "detail": DISCARDED_MESSAGE})
        return Response(self.get_serializer(session).data)

    @extend_schema(
        request={
            "text/csv": OpenApiRequest(OpenApiTypes.BINARY),
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            },
        },
        responses={201: ImportResultSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[CSVParser, MultiPartParser, SafeJSONParser],
    )
    def import_csv(self, request: Request) -> Response:
        """Import finished sessions from CSV: all rows or none."""
        upload = request.FILES.get("file")
        content = upload.read() if upload else request.data
        if not isinstance(content, bytes):
            return Response({"file": ["Send the CSV as a text/csv body or a multipart 'file'."]}, status=400)
        count = sessions_import(actor=self.actor, content=content)
        return Response({"imported": count}, status=status.HTTP_201_CREATED)

    def _own_worker(self) -> Any:
        worker = selectors.worker_of(self.actor)
        if worker is None:
            raise NotFound("You have no worker profile, so you cannot log time.")
        return worker
