"""The JSON API's reads: search, papers, similar papers, status, the schema, errors."""
import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_it_searches_by_aspect_with_pagination(client, corpus):
    response = client.get("/api/search", {"q": "message passing graph network", "aspect": "method", "per_page": 1})
    assert response.status_code == 200
    data = response.json()
    assert data["page"] == 1 and data["per_page"] == 1 and data["pages"] == data["total"] >= 2
    (hit,) = data["items"]
    assert hit["matched"] == "method" and set(hit["sims"]) == {"paper", "problem", "method", "findings"}
    assert hit["paper"]["title"] in {"Graph neural networks for molecule property prediction",
                                     "Message passing for traffic forecasting"}
    second = client.get("/api/search", {"q": "message passing graph network", "aspect": "method", "per_page": 1,
                                        "page": 2}).json()
    assert second["items"][0]["paper"]["id"] != hit["paper"]["id"]
    assert "search;dur=" in response.headers["Server-Timing"] and "app;dur=" in response.headers["Server-Timing"]


def test_it_says_when_the_corpus_is_not_indexed(client, papers):
    data = client.get("/api/search", {"q": "graph"}).json()
    assert data["indexed"] is False and data["items"] == []


def test_it_reports_validation_errors_per_field(client, db):
    response = client.get("/api/search", {"aspect": "colour", "page": 0})
    assert response.status_code == 422
    body = response.json()
    assert body["message"] == "invalid input"
    assert set(body["errors"]) == {"q", "aspect", "page"}


def test_it_returns_a_paper_with_its_labelled_sentences(client, corpus):
    paper = corpus[0]
    data = client.get(f"/api/papers/{paper.pk}").json()
    assert data["title"] == paper.title and data["indexed"] is True
    assert [s["aspect"] for s in data["segmentation"]][:3] == ["problem", "method", "findings"]


def test_it_returns_404_json_for_a_missing_paper(client, db):
    response = client.get("/api/papers/424242")
    assert response.status_code == 404 and response.json() == {"message": "no such paper"}


def test_it_finds_similar_papers_by_aspect(client, corpus):
    paper = corpus[0]
    hits = client.get(f"/api/papers/{paper.pk}/similar", {"aspect": "method", "k": 2}).json()
    assert len(hits) == 2 and paper.pk not in [h["paper"]["id"] for h in hits]
    assert hits[0]["paper"]["title"] == "Message passing for traffic forecasting"


def test_it_reports_the_index_status(client, corpus):
    data = client.get("/api/status").json()
    assert data["indexed"] == data["papers"] == len(corpus) and data["version"] >= 1


def test_it_serves_its_openapi_schema(client, db):
    schema = client.get("/api/openapi.json").json()
    assert {"/api/search", "/api/papers/{paper_id}", "/api/papers/{paper_id}/similar", "/api/imports",
            "/api/imports/{job_id}"} <= set(schema["paths"])
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "/static/ninja/swagger-ui-bundle.js" in docs.text and "cdn." not in docs.text  # works offline


def test_it_rate_limits_search_with_429(corpus, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "search": (1, 60)}
    anonymous = Client(REMOTE_ADDR="10.1.2.3")
    assert anonymous.get("/api/search", {"q": "graph"}).status_code == 200
    response = anonymous.get("/api/search", {"q": "graph"})
    assert response.status_code == 429 and "too many" in response.json()["message"]


def test_it_sorts_by_relevance_or_newest_first_as_the_schema_says(client, corpus):
    query = {"q": "message passing graph network", "aspect": "method"}
    relevance = client.get("/api/search", query).json()["items"]
    newest = client.get("/api/search", {**query, "sort": "newest"}).json()["items"]
    years = [hit["paper"]["year"] for hit in newest]
    assert years == sorted(years, reverse=True) and len(years) >= 2
    assert [h["paper"]["id"] for h in relevance] != [h["paper"]["id"] for h in newest]  # 2020 first, then 2019
    assert sorted(h["paper"]["id"] for h in relevance) == sorted(h["paper"]["id"] for h in newest)
    assert client.get("/api/search", {**query, "sort": "oldest"}).status_code == 422
    sort = next(p for p in client.get("/api/openapi.json").json()["paths"]["/api/search"]["get"]["parameters"]
                if p["name"] == "sort")
    assert sort["schema"]["enum"] == ["relevance", "newest"]
