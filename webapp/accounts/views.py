"""Browser views of accounts: sign up, password reset, and the API tokens of the signed-in user."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from webapp.accounts import forms, services


@require_http_methods(["GET", "POST"])
def signup(request):
    form = forms.SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.username}.")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200)


def mail_delivers() -> bool:
    """False for the file and console backends (no EMAIL_HOST): a mail then stays on the server."""
    return not settings.EMAIL_BACKEND.endswith(("filebased.EmailBackend", "console.EmailBackend"))


class PasswordReset(auth_views.PasswordResetView):
    """Django's reset page, told when the mail could not be sent instead of claiming it was."""
    form_class = forms.HonestPasswordResetForm

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"mail_delivers": mail_delivers()}

    def form_valid(self, form):
        response = super().form_valid(form)
        if form.mail_failed:
            return render(self.request, self.template_name, {"form": form, "mail_failed": True}, status=503)
        if not mail_delivers():
            return render(self.request, "registration/password_reset_done.html", {"undelivered": True})
        return response


@login_required
@require_GET
def token_list(request):
    return render(request, "accounts/tokens.html", {"tokens": services.tokens_of(user=request.user),
                                                    "form": forms.TokenForm()})


@login_required
@require_POST
def token_create(request):
    form = forms.TokenForm(request.POST)
    context = {"form": form}
    if form.is_valid():
        data = form.cleaned_data
        _, context["secret"] = services.token_create(user=request.user, name=data["name"].strip() or "API token",
                                                     scope=data["scope"], expires_in_days=data["expires_in_days"])
        context["form"] = forms.TokenForm()
    context["tokens"] = services.tokens_of(user=request.user)
    return render(request, "accounts/tokens.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def token_revoke(request, token_id: int):
    services.token_revoke(user=request.user, token_id=token_id)
    messages.info(request, "Token revoked.")
    return redirect("tokens")
