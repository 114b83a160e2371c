"""A person's own password on the web pages: Django's views, Fairhour's templates and mail.

The reset mail is the API's (services.accounts.password_reset_send): one path, one mail,
sent only to accounts that exist, with the same answer either way. A new password ends
the person's API tokens (User.save); Django keeps the web session that changed it.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse_lazy

from trainers.services import accounts


class PasswordChangeView(auth_views.PasswordChangeView):
    """The signed-in person's password: the old one, then the new one twice."""

    template_name = "trainers/password_change.html"
    success_url = reverse_lazy("trainers:home")
    extra_context = {"nav": "password"}

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, "Password changed. Your API tokens are signed out.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link by email; the next page says the same whether or not it went."""

    template_name = "trainers/password_reset.html"
    success_url = reverse_lazy("trainers:password-reset-sent")

    def form_valid(self, form: Any) -> HttpResponse:
        accounts.password_reset_send(form.cleaned_data["email"], self.request)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "trainers/password_reset_sent.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The mail's link: a new password twice, then the sign-in page."""

    template_name = "trainers/password_reset_confirm.html"
    success_url = reverse_lazy("trainers:sign-in")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, "Your new password is set: sign in with it.")
        return response
