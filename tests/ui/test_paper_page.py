"""The paper page: metadata, labelled sentences, neighbours per aspect, BibTeX."""
import pytest

pytestmark = pytest.mark.django_db


def test_it_labels_every_sentence_with_its_aspect(client, corpus):
    paper = corpus[0]
    response = client.get(f"/papers/{paper.pk}/")
    assert response.status_code == 200
    for aspect, label in (("problem", "Problem"), ("method", "Method"), ("findings", "Findings")):
        assert f'class="sent a-{aspect}"><span class="tag" aria-label="{label} sentence">{label}</span>' in response.text


def test_it_lists_the_nearest_papers_for_each_aspect(client, corpus):
    paper = corpus[0]
    response = client.get(f"/papers/{paper.pk}/")
    groups = {g["aspect"]: g["hits"] for g in response.context["similar"]}
    assert set(groups) == {"problem", "method", "findings"}
    assert all(groups.values())
    assert all(paper.pk not in [h.paper.pk for h in hits] for hits in groups.values())
    # the other message-passing paper is the closest method
    assert groups["method"][0].paper.title == "Message passing for traffic forecasting"
    assert 'id="similar-method"' in response.text


def test_it_shows_an_unindexed_paper_without_neighbours(client, papers):
    response = client.get(f"/papers/{papers[1].pk}/")
    assert response.status_code == 200
    assert "Not indexed yet" in response.text
    assert "Protein structure prediction remains unsolved." in response.text


def test_it_exports_bibtex(client, papers):
    response = client.get(f"/papers/{papers[0].pk}/bibtex")
    assert response["Content-Type"].startswith("application/x-bibtex")
    body = response.content.decode()
    assert body.startswith("@inproceedings{lovelace2020graph,")
    assert "title = {Graph neural networks for molecule property prediction}" in body
    assert "author = {Ada Lovelace and Alan Turing}" in body
    assert body.count("{") == body.count("}")


def test_it_escapes_a_hostile_abstract(client, corpus):
    hostile = corpus[-1]
    response = client.get(f"/papers/{hostile.pk}/")
    assert "<script>window.pwned" not in response.text
    assert "<img src=x" not in response.text
    assert "&lt;img src=x onerror=&quot;window.pwned=2&quot;&gt;" in response.text
    assert "Venue &lt;i&gt;x&lt;/i&gt;" in response.text


def test_it_returns_404_for_a_missing_paper(client, db):
    assert client.get("/papers/999999/").status_code == 404


def test_it_links_the_identifiers_without_a_stray_separator(client, db):
    from webapp.papers.models import Paper

    paper = Paper.objects.create(title="Outlier-aware quantization", abstract="We quantize.", year=2024, venue="",
                                 arxiv_id="2405.01234", doi="10.1000/x.y", url="https://example.org/p",
                                 fingerprint="test:ids")
    hostile = Paper.objects.create(title="Hostile link", abstract="x", url="javascript:alert(1)",
                                   fingerprint="test:js")
    text = client.get(f"/papers/{paper.pk}/").text
    meta = text.split('<p class="meta">')[2].split("</p>")[0]
    assert meta.strip().startswith("2024 · ")
    assert '<a href="https://arxiv.org/abs/2405.01234"' in meta
    assert '<a href="https://doi.org/10.1000/x.y"' in meta
    assert '<a href="https://example.org/p"' in meta
    assert "javascript:" not in client.get(f"/papers/{hostile.pk}/").text.split('<p class="meta">')[2].split("</p>")[0]
