"""The map of the field in Chromium: cluster labels on the map, the cluster list used with the
keyboard (papers and sub-clusters of a chosen cluster), zoom by keys; the gap map's heat map
walked with the arrow keys, its details and links; a report's idea on both. Screenshots in
test-artifacts/screenshots/."""
import re

import pytest

from tests.browser.conftest import screenshot
from tests.ui.field_corpus import make_field_papers, map_field
from webapp.maps import selectors
from webapp.papers import search
from webapp.reports.models import NoveltyReport

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def field(transactional_db, settings, tmp_path, monkeypatch):
    from tests.fakes import fake_encode

    monkeypatch.setattr("webapp.jobs.lifecycle.task_send", lambda *a: None)
    monkeypatch.setattr("discovery.encoder.encode", fake_encode)
    selectors._load.cache_clear()
    papers = make_field_papers()
    map_field(papers, settings, tmp_path, monkeypatch)
    yield papers
    selectors._load.cache_clear()
    search._index_set.cache_clear()


def _login(web, username="alice"):
    web.goto("/accounts/login/")
    web.fill("input[name=username]", username)
    web.fill("input[name=password]", "correct horse battery")
    web.click("form.stacked button[type=submit]")
    web.wait_for_selector(f"header nav >> text={username}")


def test_the_map_draws_cluster_labels_and_lists_a_chosen_cluster_s_papers(web, field):
    web.goto("/map/?space=problem")
    web.wait_for_function("() => window.fieldMap !== undefined && Number(document.getElementById('map').dataset.labels) > 0")
    assert web.locator("#map").get_attribute("data-labels") == "4"
    assert web.locator("#cluster-list button.cluster").count() == 4
    screenshot(web, "fieldmap-problem-space")
    # the keyboard way: Tab to the first cluster of the list, Enter
    web.locator("#cluster-list button.cluster").first.focus()
    web.keyboard.press("Enter")
    web.wait_for_selector("#cluster-papers li a")
    chosen = web.locator("#map").get_attribute("data-selected")
    assert chosen == "1" and web.locator("#cluster-title").inner_text() != "Clusters"
    assert float(web.locator("#map").get_attribute("data-zoom")) > 1  # zoomed onto the cluster
    assert web.locator("#cluster-papers li").count() >= 5 and not web.locator("#cluster-years").is_hidden()
    screenshot(web, "fieldmap-cluster-chosen")
    title = web.locator("#cluster-papers li a").first.inner_text()
    web.locator("#cluster-papers li a").first.click()
    web.wait_for_url(re.compile(r"/papers/\d+/$"))
    assert web.locator("h1").inner_text() == title
    assert not web.errors


def test_a_click_on_a_label_chooses_its_cluster_and_keys_zoom(web, field):
    web.goto("/map/?space=method")
    web.wait_for_function("() => window.fieldMap !== undefined && window.fieldMap.rects.length > 0")
    box = web.locator("#map").bounding_box()
    rect = web.evaluate("() => window.fieldMap.rects[0]")
    web.mouse.click(box["x"] + rect["x"] + rect["w"] / 2, box["y"] + rect["y"] + rect["h"] / 2)
    web.wait_for_function(f"() => document.getElementById('map').dataset.selected === '{rect['id']}'")
    assert "/map/" in web.url  # the label took the click, not a paper under it
    web.click("#zoom-reset")
    web.locator("#map").focus()
    web.keyboard.press("+")
    web.keyboard.press("+")
    zoom = float(web.locator("#map").get_attribute("data-zoom"))
    assert zoom > 2
    web.keyboard.press("0")
    assert float(web.locator("#map").get_attribute("data-zoom")) == pytest.approx(1, abs=0.01)
    assert not web.errors


def test_the_gap_map_is_walked_with_the_keyboard_and_links_a_cell(web, field):
    web.goto("/map/gaps/")
    cells = web.locator("#heat td")
    assert cells.count() == 16
    cells.first.focus()
    web.keyboard.press("ArrowRight")
    web.keyboard.press("ArrowDown")
    assert web.evaluate("() => document.activeElement.cellIndex") == 2
    assert web.locator("#cell-detail").get_attribute("data-cell") == "1,2"
    gap = web.locator("#heat td.gap").first
    gap.hover()
    detail = web.locator("#cell-detail")
    assert "under-explored #1" in detail.inner_text() and "0 papers" in detail.inner_text()
    screenshot(web, "gap-map-heat-map")
    gap.click()  # a click makes it the focused cell (roving tabindex)
    web.keyboard.press("Enter")
    focused = web.evaluate("() => document.activeElement.textContent")
    assert focused == "Inspire me"
    href = web.evaluate("() => document.activeElement.href")
    assert "/inspire/?problem=" in href and "protein" in href.lower()
    assert web.locator("#gap-list > li").count() >= 1
    assert not web.errors


def test_a_report_s_idea_is_placed_on_the_gap_map_and_the_map(web, field, alice):
    report = NoveltyReport.objects.create(owner=alice, problem="Detecting credit card fraud in bank transactions is hard.",
                                          method="We apply transformer attention layers over tokens.")
    _login(web)
    web.goto(f"/map/gaps/?report={report.pk}")
    idea = web.locator("#heat td.idea")
    assert idea.count() == 1 and idea.inner_text() == "◆"
    screenshot(web, "gap-map-with-report-idea")
    web.click("nav.map-tabs a")
    web.wait_for_function("() => window.fieldMap !== undefined")
    assert f"report={report.pk}" in web.url
    assert web.locator("#cluster-list .idea-mark").count() == 1
    screenshot(web, "fieldmap-with-report-idea")
    assert not web.errors
