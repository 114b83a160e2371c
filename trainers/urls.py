from django.urls import path
from rest_framework.routers import DefaultRouter

from trainers import api, api_auth

router = DefaultRouter(trailing_slash=True)
router.register("users", api.UserViewSet, basename="user")
router.register("teams", api.TeamViewSet, basename="team")
router.register("workers", api.WorkerViewSet, basename="worker")
router.register("projects", api.ProjectViewSet, basename="project")
router.register("sessions", api.SessionViewSet, basename="session")

urlpatterns = [
    path("auth/token/", api_auth.TokenView.as_view(), name="auth-token"),
    path("auth/tokens/", api_auth.TokensView.as_view(), name="auth-tokens"),
    path("auth/password/", api_auth.PasswordView.as_view(), name="auth-password"),
    path("auth/password/reset/", api_auth.PasswordResetView.as_view(), name="auth-password-reset"),
    path("me/", api.MeView.as_view(), name="me"),
    *router.urls,
]
