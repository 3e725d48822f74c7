"""The library in Chromium: save a paper from search results into a new collection, see the
digest page with its reasons, unsubscribe from the mail's link; no script errors."""
import pytest
from django.core import mail

from tests.browser.conftest import screenshot
from tests.library.conftest import PLANTED
from tests.ui.corpus import index_corpus, make_papers
from webapp.library import digests
from webapp.library.models import DigestSettings, Frequency
from webapp.papers import search
from webapp.papers.models import Paper

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db, settings, tmp_path, monkeypatch):
    papers = make_papers() + [Paper.objects.create(title=t, abstract=a, year=y, venue=v, fingerprint=f"planted:{i}")
                              for i, (t, a, y, v) in enumerate(PLANTED)]
    index_corpus(papers, settings, tmp_path, monkeypatch)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    search._calibration.cache_clear()
    yield papers
    search._index_set.cache_clear()


def test_save_a_paper_see_the_digest_and_unsubscribe(web, world, alice, live_server, settings):
    settings.SITE_URL = live_server.url
    web.goto("/accounts/login/")
    web.fill("input[name=username]", "alice")
    web.fill("input[name=password]", "correct horse battery")
    web.click("form.stacked button[type=submit]")
    web.goto("/?q=molecule+property+prediction")
    card = web.locator("ol.results > li", has_text=world[0].title)
    card.locator("input[name=new_name]").fill("Graphs")
    card.locator("form.save-paper button").click()
    web.wait_for_selector(".messages >> text=Saved to “Graphs”")
    assert "q=molecule" in web.url  # back on the results
    screenshot(web, "library-saved-from-search")
    web.click("header nav >> text=Library")
    web.click("#collections >> text=Graphs")
    assert web.locator("#collection-papers li").count() == 1

    digests.digests_send()  # what beat's daily task does
    web.goto("/digest/")
    item = web.locator(".digest-items li", has_text=PLANTED[0][0])
    assert "your collection “Graphs”" in item.locator(".reason").inner_text()
    screenshot(web, "digest-page")

    (message,) = mail.outbox
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert link in message.body
    web.goto(link)
    web.click("#unsubscribe-form button")
    web.wait_for_selector("#unsubscribed")
    assert DigestSettings.objects.get(user=alice).frequency == Frequency.OFF
    web.goto("/digest/")
    assert web.locator("#digest-frequency input[value=off]").is_checked()
    assert not web.errors
