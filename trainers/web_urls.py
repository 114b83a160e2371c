"""Routes of the people-and-time web pages (at the site root; the API is under /api/v1/)."""

from django.urls import path

from trainers import account_views, views

app_name = "trainers"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.SignInView.as_view(), name="sign-in"),
    path("sign-out/", views.SignOutView.as_view(), name="sign-out"),
    path("password/change/", account_views.PasswordChangeView.as_view(), name="password-change"),
    path("password/reset/", account_views.PasswordResetView.as_view(), name="password-reset"),
    path("password/reset/sent/", account_views.PasswordResetSentView.as_view(), name="password-reset-sent"),
    path(
        "password/reset/<uidb64>/<token>/",
        account_views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("timer/start/", views.timer_start, name="timer-start"),
    path("timer/<int:pk>/stop/", views.timer_stop, name="timer-stop"),
    path("week/", views.week_sessions, name="week-sessions"),
    path("sessions/", views.session_list, name="sessions"),
    path("sessions/new/", views.session_new, name="session-new"),
    path("sessions/import/", views.session_import, name="session-import"),
    path("sessions/<int:pk>/edit/", views.session_edit, name="session-edit"),
    path("sessions/<int:pk>/delete/", views.session_delete, name="session-delete"),
]
