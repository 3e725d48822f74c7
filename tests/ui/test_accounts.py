"""Accounts: sign up, log in and out, password change, API tokens; CSRF on every form."""
import pytest
from django.test import Client

from webapp.accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def test_it_signs_up_and_logs_the_user_in(client, django_user_model):
    response = client.post("/accounts/signup/", {"username": "carol", "email": "", "password1": "a long pass phrase 9",
                                                 "password2": "a long pass phrase 9"})
    assert response.status_code == 302
    assert django_user_model.objects.filter(username="carol").exists()
    assert "carol" in client.get("/").text


def test_it_refuses_a_weak_password(client, django_user_model):
    response = client.post("/accounts/signup/", {"username": "dave", "password1": "123", "password2": "123"})
    assert response.status_code == 400 and "too short" in response.text
    assert not django_user_model.objects.filter(username="dave").exists()


def test_it_logs_in_and_out(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "correct horse battery"})
    assert response.status_code == 302
    assert "Log out" in client.get("/").text
    client.post("/accounts/logout/")
    assert "Log in" in client.get("/").text


def test_it_changes_the_password(client, alice):
    client.force_login(alice)
    response = client.post("/accounts/password_change/", {"old_password": "correct horse battery",
                                                          "new_password1": "another long phrase 7",
                                                          "new_password2": "another long phrase 7"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("another long phrase 7")


def test_it_requires_a_csrf_token_on_forms(alice):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/login/", {"username": "alice", "password": "correct horse battery"})
    assert response.status_code == 403


def test_it_creates_shows_once_and_revokes_api_tokens(client, alice, bob):
    client.force_login(alice)
    response = client.post("/accounts/tokens/new", {"name": "notebook"})
    secret = response.context["secret"]
    token = ApiToken.objects.get(user=alice)
    assert secret.startswith(token.prefix) and secret not in token.digest
    assert secret not in client.get("/accounts/tokens/").text
    client.force_login(bob)
    client.post(f"/accounts/tokens/{token.pk}/revoke")
    assert ApiToken.objects.filter(pk=token.pk).exists()  # not bob's to revoke
    client.force_login(alice)
    client.post(f"/accounts/tokens/{token.pk}/revoke")
    assert not ApiToken.objects.filter(pk=token.pk).exists()


def test_it_shows_every_job_to_staff_in_the_admin(client, alice, django_user_model):
    from webapp.imports.models import ImportJob

    ImportJob.objects.create(owner=alice, path="/x", filename="alices.jsonl")
    admin = django_user_model.objects.create_superuser("root", "r@example.org", "pw long enough 1")
    client.force_login(admin)
    assert "alices.jsonl" in client.get("/admin/imports/importjob/").text


def test_password_reset_is_linked_styled_and_sends_the_mail(client, alice, mailoutbox):
    assert 'href="/accounts/password_reset/"' in client.get("/accounts/login/").text
    page = client.get("/accounts/password_reset/").text
    assert "Django administration" not in page and 'class="stacked"' in page
    alice.email = "alice@example.org"
    alice.save()
    response = client.post("/accounts/password_reset/", {"email": "alice@example.org"}, follow=True)
    assert len(mailoutbox) == 1 and "/accounts/reset/" in mailoutbox[0].body
    assert "Django administration" not in response.text and "Check your e-mail" in response.text
    link = next(w for w in mailoutbox[0].body.split() if "/accounts/reset/" in w)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.text and "Django administration" not in form.text
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "a fresh pass phrase 7",
                                                    "new_password2": "a fresh pass phrase 7"}, follow=True)
    assert "Password set" in done.text
    assert client.login(username="alice", password="a fresh pass phrase 7")


def test_password_reset_never_claims_a_mail_it_could_not_send(client, alice, monkeypatch, caplog):
    def refuse(self, messages):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    alice.email = "alice@example.org"
    alice.save()
    response = client.post("/accounts/password_reset/", {"email": "alice@example.org"}, follow=True)
    assert response.status_code == 503
    assert "emailed" not in response.text.lower()
    assert "could not be sent" in response.text
    assert "could not be sent" in caplog.text
