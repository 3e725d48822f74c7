"""The search page (home): query in the URL, aspects, filters, messages, escaping."""
import pytest

pytestmark = pytest.mark.django_db


def test_it_shows_the_corpus_size_and_asks_for_a_query(client, papers):
    response = client.get("/")
    assert response.status_code == 200
    assert f'<span id="paper-count">{len(papers)}</span>' in response.text
    assert 'id="not-indexed"' in response.text  # nothing indexed yet


def test_it_says_when_the_corpus_is_not_indexed(client, papers):
    response = client.get("/", {"q": "graph networks"})
    assert 'id="not-indexed"' in response.text


def test_it_asks_for_a_query_when_the_box_is_empty(client, corpus):
    response = client.get("/", {"q": "  ", "aspect": "method"})
    assert 'id="empty-query"' in response.text


def test_it_finds_papers_and_keeps_the_query_in_the_url(client, corpus):
    response = client.get("/", {"q": "message passing graph network", "aspect": "method"})
    assert response.status_code == 200
    titles = [hit.paper.title for hit in response.context["page"].hits]
    assert titles[0] in {"Graph neural networks for molecule property prediction", "Message passing for traffic forecasting"}
    assert 'value="message passing graph network"' in response.text
    assert 'value="method" checked' in response.text or 'checked value="method"' in response.text or \
        response.context["form"].cleaned_data["aspect"] == "method"
    assert "Server-Timing" in response.headers and "search;dur=" in response.headers["Server-Timing"]


def test_it_highlights_the_sentences_of_the_chosen_aspect(client, corpus):
    response = client.get("/", {"q": "message passing graph network", "aspect": "method"})
    first = response.context["results"][0]["sentences"]
    assert [s["aspect"] for s in first if s["highlight"]] == ["method"]
    assert 'class="sent a-method hl"' in response.text


def test_it_says_when_nothing_matches_the_filters(client, corpus):
    response = client.get("/", {"q": "graph", "year_min": 2030})
    assert 'id="no-results"' in response.text


def test_it_filters_by_year_and_venue(client, corpus):
    response = client.get("/", {"q": "graph network", "venue": "KDD"})
    assert [h.paper.venue for h in response.context["page"].hits] == ["KDD"]
    response = client.get("/", {"q": "embeddings", "year_min": 2021, "year_max": 2021})
    assert {h.paper.year for h in response.context["page"].hits} == {2021}


def test_it_rejects_an_inverted_year_range_with_a_message(client, corpus):
    response = client.get("/", {"q": "graph", "year_min": 2022, "year_max": 2019})
    assert response.status_code == 400
    assert "must not be before the first year" in response.text


def test_it_paginates_and_keeps_the_search_in_page_links(client, corpus, monkeypatch):
    from webapp.papers import views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    response = client.get("/", {"q": "network embeddings attention", "aspect": "all"})
    assert len(response.context["page"].hits) == 2
    assert 'rel="next" href="?q=network+embeddings+attention&amp;aspect=all&amp;page=2"' in response.text
    second = client.get("/", {"q": "network embeddings attention", "aspect": "all", "page": 2})
    first_ids = {h.paper.pk for h in response.context["page"].hits}
    assert first_ids.isdisjoint({h.paper.pk for h in second.context["page"].hits})


def test_it_escapes_paper_text(client, corpus):
    response = client.get("/", {"q": "sanitisation injection inert"})
    assert "Hostile &lt;b&gt;markup&lt;/b&gt;" in response.text
    assert "<script>window.pwned" not in response.text
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in response.text
    assert "<img src=x" not in response.text


def test_it_rate_limits_searches(client, corpus, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "search": (2, 60)}
    addr = {"REMOTE_ADDR": "10.9.8.7"}
    responses = [client.get("/", {"q": "graph"}, **addr) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    refused = responses[-1]
    assert refused["Content-Type"].startswith("text/html") and refused["Retry-After"] == "60"
    assert "too many search requests; try again in 60 s" in refused.text and 'role="alert"' in refused.text
    assert client.get("/", **addr).status_code == 200  # the bare page costs nothing


def test_a_page_past_the_end_says_so_and_links_the_last_page(client, corpus, monkeypatch):
    from webapp.papers import views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    last = client.get("/", {"q": "network embeddings attention", "aspect": "all"}).context["page"].pages
    response = client.get("/", {"q": "network embeddings attention", "aspect": "all", "page": last + 5})
    assert 'id="no-results"' not in response.text
    assert 'id="past-the-end"' in response.text
    assert f'href="?q=network+embeddings+attention&amp;aspect=all&amp;page={last}"' in response.text


def test_a_query_that_matches_nothing_finds_nothing(client, corpus):
    response = client.get("/", {"q": "zxqwv flurble glomp"})
    assert 'id="no-results"' in response.text
    assert response.context["page"].total == 0


def test_the_floor_keeps_word_matches_and_close_papers_and_drops_the_rest(client, corpus):
    everything = len(corpus)
    page = client.get("/", {"q": "message passing graph network"}).context["page"]
    titles = [h.paper.title for h in page.hits]
    assert "Message passing for traffic forecasting" in titles
    assert 0 < page.total < everything


def test_results_show_no_opaque_fused_score(client, corpus):
    response = client.get("/", {"q": "message passing graph network"})
    assert response.context["results"] and "fused rank score" not in response.text and "score 0.0" not in response.text


def test_a_card_shows_the_matched_sentences_and_the_abstract_on_demand(client, corpus):
    response = client.get("/", {"q": "message passing graph network", "aspect": "method"})
    card = response.text.split('<li class="result">')[1].split("</li>")[0]
    shown, hidden = card.split("<details")
    assert "We propose a message passing graph network" in shown
    assert "Predicting molecular properties is expensive" not in shown  # the problem sentence waits
    assert "Predicting molecular properties is expensive" in hidden or "Traffic forecasting" in hidden


def test_it_sorts_by_date_newest_first(client, corpus):
    params = {"q": "network embeddings attention passages"}
    by_relevance = [h.paper.pk for h in client.get("/", params).context["page"].hits]
    response = client.get("/", {**params, "sort": "newest"})
    years = [h.paper.year for h in response.context["page"].hits]
    assert years == sorted(years, reverse=True) and sorted(by_relevance) == sorted(h.paper.pk for h in
                                                                                  response.context["page"].hits)
    assert 'value="newest" checked' in response.text or 'checked value="newest"' in response.text or \
        'name="sort" value="newest" selected' in response.text or '<option value="newest" selected>' in response.text


def test_a_card_without_authors_has_no_stray_separator(client, corpus):
    from webapp.papers.models import Paper

    Paper.objects.update(authors=[], venue="")
    response = client.get("/", {"q": "message passing graph network", "aspect": "all"})
    bylines = [r["byline"] for r in response.context["results"]]
    assert bylines and all(b == [str(r["hit"].paper.year)] for b, r in zip(bylines, response.context["results"]))
    assert '<p class="meta"> · ' not in response.text
