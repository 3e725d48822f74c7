"""Input parsing for the sign-up, password-reset and API-token pages."""
import logging

from django import forms
from django.contrib.auth.forms import PasswordResetForm, UserCreationForm
from django.core.mail import send_mail
from django.template import loader

from webapp.accounts.models import Scope
from webapp.accounts.services import EXPIRY_DAYS

log = logging.getLogger(__name__)


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=False, help_text="Optional; only used to reset a password.")

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")


class HonestPasswordResetForm(PasswordResetForm):
    """Django's form logs a failed send and carries on, so its page would say a mail went out
    when the server refused it; this one records the failure for the view to report."""
    mail_failed = False

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        try:
            send_mail(subject, body, from_email, [to_email])
        except Exception:  # refused connection, DNS, TLS, authentication: the backend's to name
            log.exception("password reset mail for user %s could not be sent", context["user"].pk)
            self.mail_failed = True


class TokenForm(forms.Form):
    name = forms.CharField(required=False, max_length=100,
                           widget=forms.TextInput(attrs={"placeholder": "e.g. my notebook"}))
    scope = forms.TypedChoiceField(choices=Scope.choices, initial=Scope.READ, required=False, empty_value=Scope.READ,
                              help_text="Read only: search and read your jobs; read and write: also import and queue jobs.")
    expires_in_days = forms.TypedChoiceField(
        choices=[(str(d), f"{d} days") for d in EXPIRY_DAYS] + [("", "never")], coerce=int, empty_value=None,
        required=False, initial="90", label="Expires in")
