"""Account and digest mail through Django's real backends: the file backend (the default without
EMAIL_HOST) end to end for a password reset, honest about mail that stays on the server; SMTP to
a local server that receives it; SMTP to a closed port, reported as failed, never as sent."""
import socket
import socketserver
import threading

import pytest

from webapp.library import digests
from webapp.library.models import Collection, CollectionPaper, Digest, DigestStatus
from webapp.launcher import free_port

pytestmark = pytest.mark.django_db


def test_a_password_reset_works_end_to_end_with_the_file_backend(client, alice, settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    assert 'id="mail-not-configured"' in client.get("/accounts/password_reset/").text
    response = client.post("/accounts/password_reset/", {"email": "alice@example.org"})
    assert response.status_code == 200 and 'id="mail-undelivered"' in response.text
    assert "Check your e-mail" not in response.text  # nothing reached an inbox; the page does not say so
    (written,) = (tmp_path / "mail").iterdir()
    text = written.read_text()
    assert "To: alice@example.org" in text
    link = next(w for w in text.split() if "/accounts/reset/" in w)
    form = client.get(link, follow=True)
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "a fresh pass phrase 7",
                                                    "new_password2": "a fresh pass phrase 7"}, follow=True)
    assert "Password set" in done.text and client.login(username="alice", password="a fresh pass phrase 7")


class _SMTP(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to take one message: what Django's smtplib client says."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self.reply("220 localhost ready")
        while line := self.rfile.readline():
            verb = line.decode().strip().split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 localhost")
            elif verb == "DATA":
                self.reply("354 end with .")
                body = b"".join(iter(lambda: self.rfile.readline(), b".\r\n"))
                self.server.received.append(body.decode())
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", free_port()), _SMTP)
    server.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _smtp(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False


def test_reset_and_digest_mail_reach_an_smtp_server(client, alice, settings, smtp_server, world):
    _smtp(settings, smtp_server.server_address[1])
    response = client.post("/accounts/password_reset/", {"email": "alice@example.org"}, follow=True)
    assert "Check your e-mail" in response.text
    c = Collection.objects.create(owner=alice, name="Graphs")
    CollectionPaper.objects.create(collection=c, paper=world[0])
    run = digests.digests_send()
    assert run.sent == 1 and Digest.objects.get(user=alice).status == DigestStatus.SENT
    reset, digest = smtp_server.received
    assert "/accounts/reset/" in reset
    assert "List-Unsubscribe:" in digest and "multipart/alternative" in digest and "text/html" in digest


def test_a_refused_smtp_connection_is_failed_never_sent(client, alice, settings, world):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens there once closed
    _smtp(settings, closed)
    response = client.post("/accounts/password_reset/", {"email": "alice@example.org"})
    assert response.status_code == 503 and 'id="mail-failed"' in response.text
    c = Collection.objects.create(owner=alice, name="Graphs")
    CollectionPaper.objects.create(collection=c, paper=world[0])
    run = digests.digests_send()
    digest = Digest.objects.get(user=alice)
    assert (run.sent, run.failed) == (0, 1) and digest.status == DigestStatus.FAILED and digest.sent_at is None
    assert "Connection refused" in digest.error or "ConnectionRefusedError" in digest.error
