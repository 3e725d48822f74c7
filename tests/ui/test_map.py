"""The ideation map page and its points."""
import json

import numpy as np
import pytest

from discovery import projection

pytestmark = pytest.mark.django_db


def test_it_serves_every_indexed_paper_as_a_point(client, corpus):
    response = client.get("/map/points/method.json", HTTP_ACCEPT_ENCODING="identity")
    data = response.json()
    assert sorted(data["ids"]) == sorted(p.pk for p in corpus)
    assert len(data["x"]) == len(data["y"]) == len(corpus)
    assert data["space"] == "method" and data["version"] >= 1


def test_it_caches_the_projection_per_index_version(client, corpus, settings):
    from webapp.papers.map import map_cache_dir

    client.get("/map/points/problem.json")
    cached = list(map_cache_dir().glob("v*-problem-*.npz"))
    assert len(cached) == 1
    ids, xy = projection.cached_projection(map_cache_dir(), int(cached[0].name[1:7]), "problem",
                                           lambda: pytest.fail("recomputed despite the cache"))
    assert len(ids) == len(corpus) and xy.shape == (len(corpus), 2)


def test_it_gzips_the_points(client, corpus, monkeypatch):
    from webapp.papers import map as selectors

    many = {"version": 1, "space": "paper", "ids": list(range(5000)), "x": [7] * 5000, "y": [9] * 5000}
    monkeypatch.setattr(selectors, "map_points", lambda space: many)
    response = client.get("/map/points/paper.json", HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    assert len(response.content) < len(json.dumps(many)) / 5


def test_it_serves_no_points_before_indexing(client, papers):
    assert client.get("/map/points/paper.json").json()["ids"] == []


def test_it_rejects_an_unknown_space(client, db):
    assert client.get("/map/points/nonsense.json").status_code == 404


def test_it_highlights_a_paper_and_its_neighbours(client, corpus):
    response = client.get("/map/", {"paper": corpus[0].pk, "space": "method"})
    highlight = response.context["highlight"]
    assert highlight[0] == corpus[0].pk and len(highlight) == len(corpus)
    assert 'id="map-highlight"' in response.text
    assert "/static/vendor/chartjs/chart.umd.min.js" in response.text


def test_it_highlights_the_best_hits_of_a_query(client, corpus):
    response = client.get("/map/", {"q": "protein folding attention"})
    assert corpus[1].pk in response.context["highlight"]


def test_it_projects_deterministically_onto_the_grid():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((500, 384)).astype(np.float32)
    vectors[:, 0] *= 10  # the first axis carries the variance
    xy = projection.project(vectors)
    assert xy.dtype == np.uint16 and xy.min() == 0 and xy.max() == projection.ProjectionConfig().grid
    assert np.array_equal(xy, projection.project(vectors))
    assert abs(np.corrcoef(xy[:, 0], vectors[:, 0])[0, 1]) > 0.95


def test_it_recomputes_when_a_rebuilt_index_reuses_a_version(tmp_path):
    rng = np.random.default_rng(1)
    first = (np.arange(10), rng.standard_normal((10, 384)))
    second = (np.arange(100, 112), rng.standard_normal((12, 384)))
    ids, _ = projection.cached_projection(tmp_path, 1, "method", lambda: first, expect_count=10)
    assert ids.tolist() == list(range(10))
    ids, xy = projection.cached_projection(tmp_path, 1, "method", lambda: second, expect_count=12)
    assert ids.tolist() == list(range(100, 112)) and xy.shape == (12, 2)


def test_it_keeps_only_the_newest_cached_versions(tmp_path):
    vectors = (np.arange(5), np.random.default_rng(2).standard_normal((5, 384)))
    for version in (1, 2, 3):
        projection.cached_projection(tmp_path, version, "paper", lambda: vectors)
    assert sorted(p.name[:7] for p in tmp_path.glob("*.npz")) == ["v000002", "v000003"]


def test_a_cached_transform_places_new_points_on_the_corpus_axes(tmp_path):
    vectors = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)
    _, xy = projection.cached_projection(tmp_path, 1, "paper", lambda: (np.arange(50), vectors))
    transform = projection.cached_transform(tmp_path, 1, "paper")
    assert np.array_equal(transform.place(vectors), xy)
    far = transform.place(vectors[:1] * 1000)  # beyond the corpus: on the edge of its box
    assert far.max() == projection.ProjectionConfig().grid or far.min() == 0
    assert projection.cached_transform(tmp_path, 2, "paper") is None
