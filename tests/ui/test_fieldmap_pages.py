"""The map of the field in the browser's pages and the JSON API: the gap map's heat map and its
under-explored list with links, the cluster JSON of the map page, a report's idea placed on
both, /api/map and /api/gaps in the schema, and paper text escaped in labels."""
import re
from urllib.parse import parse_qs, urlparse

import pytest

from tests.ui.field_corpus import make_field_papers, map_field
from webapp.jobs.models import JobStatus
from webapp.maps import selectors
from webapp.maps.models import FieldMap
from webapp.reports.models import NoveltyReport

pytestmark = pytest.mark.django_db


@pytest.fixture
def field(settings, tmp_path, monkeypatch):
    from tests.fakes import fake_encode

    monkeypatch.setattr("webapp.jobs.lifecycle.task_send", lambda *a: None)
    monkeypatch.setattr("discovery.encoder.encode", fake_encode)
    selectors._load.cache_clear()
    papers = make_field_papers()
    map_field(papers, settings, tmp_path, monkeypatch)
    yield papers
    selectors._load.cache_clear()


def test_the_api_gives_a_space_s_clusters_at_a_level(client, field):
    data = client.get("/api/map", {"space": "method", "level": 1}).json()
    assert data["version"] >= 1 and data["level"] == 1 and not data["stale"]
    assert len(data["clusters"]) == 4 and sum(c["size"] for c in data["clusters"]) == len(field)
    first = data["clusters"][0]
    assert {"id", "label", "size", "parent", "representatives", "years", "trend"} <= set(first)
    assert first["parent"] is None and len(first["representatives"]) == 5
    children = client.get("/api/map", {"space": "method", "level": 2}).json()["clusters"]
    assert {c["parent"] for c in children} == {c["id"] for c in data["clusters"]}
    assert client.get("/api/map", {"space": "all"}).json()["space"] == "paper"
    assert client.get("/api/map", {"space": "nonsense"}).status_code == 422


def test_the_api_gives_the_gap_map_with_the_ranked_cells(client, field):
    data = client.get("/api/gaps", {"level": 1}).json()
    assert len(data["problem"]) == len(data["method"]) == 4
    assert sum(map(sum, data["counts"])) == len(field)
    assert [sum(h) for h in data["history"][0]] == data["counts"][0]  # every paper has a year here
    top = data["under_explored"][0]
    assert top["observed"] == 0 and top["expected"] > 0 and len(top["nearest"]) == 5
    assert client.get("/api/gaps", {"level": 0}).status_code == 422


def test_both_endpoints_are_in_the_openapi_schema(client, db):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {p["name"] for p in paths["/api/map"]["get"]["parameters"]} == {"space", "level"}
    assert "/api/gaps" in paths


def test_the_gap_map_page_draws_the_heat_map_and_links_each_gap(client, field):
    response = client.get("/map/gaps/")
    assert response.status_code == 200
    html = response.text
    assert html.count("<td class=\"h") == 16 and 'class="h0 gap"' in html  # the left-out cell, marked
    first = response.context["under"][0]
    assert first["rank"] == 1 and first["papers"]
    inspire = parse_qs(urlparse(first["inspire"]).query)
    report = parse_qs(urlparse(first["report"]).query)
    assert "protein" in inspire["problem"][0].lower() and "diffusion" in report["method"][0].lower()
    assert f'href="{first["inspire"].replace("&", "&amp;")}"' in html
    assert "/static/maps/gaps.js" in html and "<script>" not in html.split("</footer>")[0]


def test_a_report_prefilled_from_a_gap_link_shows_both_fields(client, field, alice):
    client.force_login(alice)
    link = client.get("/map/gaps/").context["under"][0]["report"]
    form = client.get(link).context["form"]
    assert "protein" in form.initial["problem"].lower() and "diffusion" in form.initial["method"].lower()


def test_a_report_s_idea_is_marked_on_the_gap_map_and_the_map(client, field, alice):
    report = NoveltyReport.objects.create(owner=alice, problem="Detecting credit card fraud in bank transactions is hard.",
                                          method="We apply transformer attention layers over tokens.")
    client.force_login(alice)
    response = client.get("/map/gaps/", {"report": report.pk})
    assert response.context["idea_cell"] is not None and len(re.findall(r'class="h\d( gap)? idea"', response.text)) == 1
    clusters = client.get(f"/map/clusters/problem.json?report={report.pk}").json()
    fraud = [c for c in clusters["clusters"] if c["id"] == clusters["idea"][0]][0]
    assert "fraud" in fraud["label"] or "credit" in fraud["label"]
    assert 'data-clusters="/map/clusters/paper.json?report=' in client.get("/map/", {"report": report.pk}).text


def test_another_user_s_report_is_not_placed(client, field, alice, bob):
    report = NoveltyReport.objects.create(owner=alice, problem="A problem.", method="A method.")
    client.force_login(bob)
    assert client.get("/map/gaps/", {"report": report.pk}).status_code == 404
    assert client.get(f"/map/clusters/method.json?report={report.pk}").status_code == 404
    client.logout()
    assert client.get("/map/gaps/", {"report": report.pk}).status_code == 404


def test_the_cluster_json_gives_members_and_a_cluster_s_papers(client, field):
    data = client.get("/map/clusters/method.json", HTTP_ACCEPT_ENCODING="identity").json()
    assert len(data["members"]["ids"]) == len(field) and len(data["members"]["levels"]) == 2
    detail = client.get(f"/map/clusters/method/{data['clusters'][0]['id']}.json").json()
    assert detail["papers"] and detail["children"]
    assert client.get("/map/clusters/method/42.json").status_code == 404
    assert client.get("/map/clusters/method/x.json").status_code == 404


def test_the_pages_say_when_there_is_no_map_yet(client, db):
    selectors._load.cache_clear()
    assert "No map of the field yet" in client.get("/map/gaps/").text
    assert client.get("/api/map").json()["clusters"] == [] and client.get("/api/gaps").json()["version"] is None


def test_paper_text_in_labels_is_escaped(client, db):
    selectors._load.cache_clear()
    evil = "<script>window.pwned=1</script>"
    cluster = {"id": "1", "level": 1, "parent": None, "label": [evil], "size": 3, "representatives": [],
               "years": {}, "trend": "steady", "x": 0, "y": 0}
    FieldMap.objects.create(index_version=1, status=JobStatus.DONE, data={
        "spaces": {"problem": {"levels": 1, "clusters": [cluster]}, "method": {"levels": 1, "clusters": [cluster]}},
        "gaps": [{"level": 1, "problem": ["1"], "method": ["1"], "periods": ["2020"], "cells": [[0, 0, 3, 3.0, [3]]],
                  "under_explored": []}]})
    html = client.get("/map/gaps/").text
    assert evil not in html and "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    selectors._load.cache_clear()


def test_while_the_first_map_is_built_the_page_shows_its_stage(client, db):
    selectors._load.cache_clear()
    job = FieldMap.objects.create(index_version=3, status=JobStatus.RUNNING, stage="clustering")
    html = client.get("/map/gaps/").text
    assert "being built" in html and "Clustering and labelling" in html and f"/map/builds/{job.pk}/progress" in html
    assert client.get("/map/clusters/method.json").json()["building"] is True
    FieldMap.objects.filter(pk=job.pk).update(status=JobStatus.DONE)
    assert client.get(f"/map/builds/{job.pk}/progress")["HX-Refresh"] == "true"
    assert client.get("/map/builds/999/progress").status_code == 404
