"""Search by aspect, open a paper, use the map; and a hostile abstract stays inert."""
import re

import pytest

from tests.browser.conftest import screenshot
from tests.ui.corpus import index_corpus, make_papers
from webapp.papers import search

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def corpus(transactional_db, settings, tmp_path, monkeypatch):
    papers = make_papers()
    index_corpus(papers, settings, tmp_path, monkeypatch)
    yield papers
    search._index_set.cache_clear()


def test_it_searches_by_aspect_and_opens_a_paper(web, corpus):
    web.goto("/")
    assert web.locator("#paper-count").inner_text() == str(len(corpus))
    web.fill("input[name=q]", "message passing graph network")
    web.check("input[name=aspect][value=method]")
    web.click("form.search button[type=submit]")
    web.wait_for_selector("ol.results")
    assert re.search(r"[?&]aspect=method", web.url) and "q=message+passing" in web.url
    first = web.locator("ol.results > li").first
    assert first.locator(".sent.hl .tag").first.inner_text().lower() == "method"
    screenshot(web, "search-by-method")
    title = first.locator("h2 a").inner_text()
    first.locator("h2 a").click()
    web.wait_for_selector("#similar-method li")
    assert web.locator("h1").inner_text() == title
    for aspect in ("problem", "method", "findings"):
        assert web.locator(f"#similar-{aspect} li").count() >= 1
    assert web.locator(".paper .sent .tag", has_text="Method").count() >= 1
    screenshot(web, "paper-page")
    assert not web.errors


def test_it_draws_the_map_and_opens_a_paper_on_click(web, corpus):
    web.goto(f"/map/?space=method&paper={corpus[0].pk}")
    web.wait_for_function("window.ideationMap !== undefined")
    assert web.locator("#map").get_attribute("data-count") == str(len(corpus))
    # the highlighted dataset holds the paper itself first; hover it, then click it
    box = web.locator("#map").bounding_box()
    x, y = web.evaluate("() => { const p = window.ideationMap.getDatasetMeta(0).data[0]; return [p.x, p.y]; }")
    web.mouse.move(box["x"] + x, box["y"] + y)
    web.wait_for_selector("#map-label:not([hidden])")
    label = web.locator("#map-label").inner_text()
    screenshot(web, "map-method-space")
    web.mouse.click(box["x"] + x, box["y"] + y)
    web.wait_for_url(re.compile(r"/papers/\d+/$"))
    assert web.locator("h1").inner_text() == label
    assert not web.errors


def test_it_keeps_a_hostile_abstract_inert(web, corpus):
    dialogs = []
    web.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    hostile = corpus[-1]
    web.goto(f"/papers/{hostile.pk}/")
    assert "<script>window.pwned=1</script>" in web.locator(".paper .abstract").inner_text()
    web.goto("/?q=sanitisation+injection+inert")
    web.wait_for_selector("ol.results")
    web.goto(f"/map/?q=sanitisation+injection")
    web.wait_for_function("window.ideationMap !== undefined")
    assert web.evaluate("() => window.pwned") is None
    assert web.locator("img[src=x]").count() == 0 and not dialogs
    web.goto(f"/papers/{hostile.pk}/")
    screenshot(web, "hostile-abstract-inert")
    assert web.evaluate("() => window.pwned") is None


def test_it_marks_a_report_idea_on_the_map(web, corpus, alice, monkeypatch):
    from tests.fakes import fake_encode
    from webapp.reports import services

    monkeypatch.setattr("discovery.encoder.encode", fake_encode)  # the corpus's own encoder
    search._calibration.cache_clear()
    report = services.report_create(owner=alice, enqueue=False, problem="Predicting molecular properties is expensive",
                                    method="We propose a message passing graph network", findings="")
    services.report_run(report_id=report.pk)
    web.goto("/accounts/login/")
    web.fill("input[name=username]", "alice")
    web.fill("input[name=password]", "correct horse battery")
    web.click("form.stacked button[type=submit]")
    web.wait_for_selector("header nav >> text=alice")
    web.goto(f"/reports/{report.pk}/")
    web.click('a[href*="space=method&report="]')
    web.wait_for_function("window.ideationMap !== undefined")
    assert "space=method" in web.url and f"report={report.pk}" in web.url
    star = web.evaluate("() => window.ideationMap.data.datasets.find((d) => d.label === 'the idea').data")
    assert len(star) == 1 and star[0]["id"] is None
    assert "the idea" in web.locator("#map-status").inner_text()
    screenshot(web, "report-idea-on-the-map")
    assert not web.errors


def test_a_click_on_a_point_opens_the_paper_without_a_hover_first(web, corpus):
    web.goto("/map/?space=method")
    web.wait_for_function("window.ideationMap !== undefined")
    # a click event straight away, a few pixels off the point's centre, as a quick click or a
    # tap is: before the fix only a hovered point (drawn larger) took it
    web.evaluate("""() => {
        const canvas = document.getElementById("map"), rect = canvas.getBoundingClientRect();
        const p = window.ideationMap.getDatasetMeta(1).data[0];
        canvas.dispatchEvent(new MouseEvent("click", {clientX: rect.left + p.x + 5, clientY: rect.top + p.y,
                                                      bubbles: true}));
    }""")
    web.wait_for_url(re.compile(r"/papers/\d+/$"), timeout=5000)
