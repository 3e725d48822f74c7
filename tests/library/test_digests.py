"""Digests: two readers with different libraries get different new papers, each with a reason;
the mail has text and HTML with the paper text escaped and a one-click unsubscribe; a refused
mail is recorded as failed, never as sent; the page, the private Atom feed, --dry-run."""
import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from webapp.library import digests
from webapp.library.models import (Collection, CollectionPaper, Digest, DigestSettings, DigestStatus, Frequency,
                                   SavedIdea)

pytestmark = pytest.mark.django_db


@pytest.fixture
def libraries(world, alice, bob):
    """alice keeps the molecule graph paper, bob the sentence-embedding one (conftest's world)."""
    graphs = Collection.objects.create(owner=alice, name="Graphs")
    CollectionPaper.objects.create(collection=graphs, paper=world[0])
    text = Collection.objects.create(owner=bob, name="Embeddings <i>")
    CollectionPaper.objects.create(collection=text, paper=world[2])
    return graphs, text


@pytest.fixture
def corpus(world):
    return world


TOXICITY, CONTRASTIVE = "Graph message passing for molecule toxicity", "Contrastive sentence embeddings for retrieval"


def picked(user) -> dict[str, str]:
    digest = Digest.objects.get(user=user)
    return {i.paper.title: i.reason for i in digest.items.select_related("paper")}


def test_two_readers_get_different_papers_each_with_a_reason(libraries, corpus, alice, bob):
    run = digests.digests_send()
    assert (len(run.built), run.sent, run.failed) == (2, 2, 0)
    a, b = picked(alice), picked(bob)
    assert TOXICITY in a and CONTRASTIVE not in a
    assert CONTRASTIVE in b and TOXICITY not in b
    assert corpus[0].title not in a and corpus[2].title not in b  # a saved paper is not news to its owner
    assert all(reason.startswith(("Same problem as your collection", "Same kind of method as your collection",
                                  "Findings like those in your collection")) for reason in {**a, **b}.values())
    assert "“Graphs”: close to “Graph neural networks for molecule property prediction”" in " ".join(a.values())
    assert Digest.objects.get(user=alice).status == DigestStatus.SENT


def test_the_mail_has_text_and_html_escaped_and_a_one_click_unsubscribe(libraries, corpus, bob):
    digests.digests_send()
    message = next(m for m in mail.outbox if m.to == [bob.email])
    html = message.alternatives[0][0]
    assert CONTRASTIVE in message.body and CONTRASTIVE in html
    assert "Embeddings &lt;i&gt;" in html and "Embeddings <i>" not in html
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in message.body and url.startswith("http://127.0.0.1:8000/digest/unsubscribe/")
    path = url.removeprefix("http://127.0.0.1:8000")
    anonymous = Client(enforce_csrf_checks=True)  # a mail client's POST carries no CSRF token
    assert "Unsubscribe" in anonymous.get(path).text
    assert DigestSettings.objects.get(user=bob).frequency == Frequency.DAILY  # a GET (link preview) changes nothing
    assert anonymous.post(path).status_code == 200
    assert DigestSettings.objects.get(user=bob).frequency == Frequency.OFF
    assert anonymous.post(path[:-3] + "xx/").status_code == 404  # a forged token


def test_a_refused_mail_is_recorded_as_failed_and_retried(libraries, alice, monkeypatch):
    def refuse(self, messages):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    with pytest.raises(Exception, match="could not be mailed|failed"):
        call_command("send_digests")
    digest = Digest.objects.get(user=alice)
    assert digest.status == DigestStatus.FAILED and "Connection refused" in digest.error and digest.sent_at is None
    monkeypatch.undo()
    run = digests.digests_send()  # nothing new is due, but the failed mails go out now
    assert run.sent == 2 and not run.built
    assert Digest.objects.get(user=alice).status == DigestStatus.SENT


def test_a_reader_is_due_once_per_period_and_off_means_off(libraries, alice, bob):
    DigestSettings.objects.update_or_create(user=bob, defaults={"frequency": Frequency.OFF})
    assert len(digests.digests_send().built) == 1
    assert not digests.digests_send().built  # alice's was just sent
    later = timezone.now() + timezone.timedelta(days=1)
    run = digests.digests_send(now=later)
    assert run.skipped == 1 and not run.built  # due, but nothing new since her last window


def test_dry_run_shows_the_picks_and_stores_and_mails_nothing(libraries, capsys):
    call_command("send_digests", "--dry-run")
    out = capsys.readouterr().out
    assert "alice:" in out and "your collection “Graphs”" in out and TOXICITY in out
    assert not Digest.objects.exists() and not mail.outbox


def test_an_idea_gets_new_methods_for_its_problem(corpus, alice):
    SavedIdea.objects.create(owner=alice, title="Faster molecules",
                             problem="Predicting molecular properties is expensive",
                             method="")
    digests.digests_send()
    reasons = picked(alice)
    assert reasons and all("your idea “Faster molecules”" in r for r in reasons.values())
    assert TOXICITY in reasons


def test_the_digest_page_and_the_private_feed(libraries, client, alice, bob):
    digests.digests_send()
    client.force_login(alice)
    page = client.get("/digest/").text
    assert TOXICITY in page and "your collection “Graphs”" in page
    token = DigestSettings.objects.get(user=alice).feed_token
    assert token in page
    feed = Client().get(f"/digest/feed/{token}.atom")
    assert feed.status_code == 200 and feed["Content-Type"].startswith("application/atom+xml")
    assert TOXICITY in feed.text
    assert Client().get("/digest/feed/not-a-token.atom").status_code == 404
    client.force_login(bob)
    bob_feed = Client().get(f"/digest/feed/{DigestSettings.objects.get(user=bob).feed_token}.atom").text
    assert "Embeddings &amp;lt;i&amp;gt;" in bob_feed  # escaped for the HTML summary, then for XML
    assert TOXICITY not in client.get("/digest/").text
    client.post("/digest/settings", {"frequency": "weekly"})
    assert DigestSettings.objects.get(user=bob).frequency == Frequency.WEEKLY


def test_all_builds_for_readers_not_due_but_never_for_those_who_turned_it_off(libraries, alice, bob):
    digests.digests_send()
    DigestSettings.objects.filter(user=bob).update(frequency=Frequency.OFF)
    call_command("send_digests", "--all")  # nothing new since: built for nobody, and no error
    assert Digest.objects.filter(user=alice).count() == 1 and Digest.objects.filter(user=bob).count() == 1
