"""The library in the browser's terms: save papers into collections from search results and paper
pages, saved searches and ideas, exports, a BibTeX file imported as a collection; login, CSRF and
404 for anyone else's."""
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from webapp.imports import services as imports
from webapp.library.models import Collection, CollectionPaper, SavedIdea, SavedSearch
from webapp.papers.models import Paper

pytestmark = pytest.mark.django_db


def test_the_save_form_is_on_search_results_and_paper_pages_for_signed_in_users(client, corpus, alice):
    assert 'class="inline save-paper"' not in client.get(f"/papers/{corpus[0].pk}/").text
    client.force_login(alice)
    assert 'class="inline save-paper"' in client.get(f"/papers/{corpus[0].pk}/").text
    page = client.get("/", {"q": "message passing graph network"}).text
    assert page.count('class="inline save-paper"') >= 2 and 'id="save-search"' in page
    assert "<script" not in page.split("<footer")[0].split("</header>")[1]  # no inline script added


def test_it_saves_a_paper_into_a_new_then_an_existing_collection_and_goes_back(client, corpus, alice):
    client.force_login(alice)
    response = client.post("/library/save", {"paper": corpus[0].pk, "new_name": "Graphs", "next": "/?q=graph"})
    assert response.status_code == 302 and response["Location"] == "/?q=graph"
    graphs = Collection.objects.get(owner=alice, name="Graphs")
    client.post("/library/save", {"paper": corpus[3].pk, "collection": graphs.pk, "next": "https://evil.example/"})
    assert set(graphs.papers.values_list("pk", flat=True)) == {corpus[0].pk, corpus[3].pk}
    client.post("/library/save", {"paper": corpus[3].pk, "collection": graphs.pk})  # twice: still once
    assert CollectionPaper.objects.filter(collection=graphs).count() == 2
    page = client.get(f"/library/collections/{graphs.pk}/").text
    assert corpus[0].title in page and "Hostile" not in page


def test_saving_needs_a_login_and_csrf(corpus, alice):
    anonymous = Client()
    response = anonymous.post("/library/save", {"paper": corpus[0].pk, "new_name": "X"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post("/library/save", {"paper": corpus[0].pk, "new_name": "X"}).status_code == 403
    assert not Collection.objects.exists()


def test_collections_searches_and_ideas_are_private(client, corpus, alice, bob):
    mine = Collection.objects.create(owner=alice, name="Mine")
    CollectionPaper.objects.create(collection=mine, paper=corpus[0])
    search = SavedSearch.objects.create(owner=alice, name="q", params={"q": "graph"})
    idea = SavedIdea.objects.create(owner=alice, title="Secret idea", problem="p")
    client.force_login(bob)
    for url in (f"/library/collections/{mine.pk}/", f"/library/collections/{mine.pk}/export.bib",
                f"/library/collections/{mine.pk}/export.json", f"/library/ideas/{idea.pk}/"):
        assert client.get(url).status_code == 404, url
    for url in (f"/library/collections/{mine.pk}/delete", f"/library/searches/{search.pk}/delete",
                f"/library/ideas/{idea.pk}/delete", f"/library/collections/{mine.pk}/remove/{corpus[0].pk}"):
        assert client.post(url).status_code == 404, url
    assert client.post("/library/save", {"paper": corpus[1].pk, "collection": mine.pk}).status_code == 404
    assert "Secret idea" not in client.get("/library/").text and "Mine" not in client.get("/library/").text
    assert mine.entries.count() == 1 and SavedIdea.objects.filter(pk=idea.pk).exists()


def test_it_exports_a_collection_as_bibtex_and_json(client, corpus, alice):
    c = Collection.objects.create(owner=alice, name="Mixed")
    for p in (corpus[0], corpus[5]):
        CollectionPaper.objects.create(collection=c, paper=p)
    client.force_login(alice)
    bib = client.get(f"/library/collections/{c.pk}/export.bib")
    assert bib["Content-Type"].startswith("application/x-bibtex") and bib.text.count("@") == 2
    assert "title = {Graph neural networks for molecule property prediction}" in bib.text
    data = json.loads(client.get(f"/library/collections/{c.pk}/export.json").text)
    assert data["collection"] == "Mixed" and {p["title"] for p in data["papers"]} == {corpus[0].title, corpus[5].title}


BIB = """@inproceedings{a, title = {Graph neural networks for molecule property prediction}, year = {2020}}
@article{b, title = {A paper the corpus does not have}, author = {Doe, Jane}, year = {2024},
  abstract = {We study something new. We propose a method. Results improve.}}
"""


def test_it_imports_a_bibtex_file_as_a_collection_through_the_import_job(client, corpus, alice, settings,
                                                                        django_capture_on_commit_callbacks):
    from discovery.corpus import Record, fingerprint

    settings.INDEX_AFTER_IMPORT = False
    Paper.objects.filter(pk=corpus[0].pk).update(fingerprint=fingerprint(Record(title=corpus[0].title)))  # as imported
    client.force_login(alice)
    with django_capture_on_commit_callbacks() as sent:
        response = client.post("/library/collections/import",
                               {"file": SimpleUploadedFile("my refs.bib", BIB.encode()), "name": ""})
    collection = Collection.objects.get(owner=alice)
    assert response.status_code == 302 and collection.name == "my refs"
    assert list(collection.papers.values_list("pk", flat=True)) == [corpus[0].pk]  # matched by title at once
    assert sent  # the import job was queued for the missing paper
    pending = collection.imports.get()
    assert "Importing 1 more paper" in client.get(f"/library/collections/{collection.pk}/").text
    imports.import_job_run(job_id=pending.job_id)
    assert Paper.objects.filter(title="A paper the corpus does not have").count() == 1
    page = client.get(f"/library/collections/{collection.pk}/").text
    assert "A paper the corpus does not have" in page and "Importing" not in page
    assert collection.papers.count() == 2


def test_an_import_that_is_not_bibtex_or_ris_is_refused_with_the_reason(client, corpus, alice):
    client.force_login(alice)
    lines = "\n".join(json.dumps({"title": f"T{i}", "abstract": "a"}) for i in range(3))
    response = client.post("/library/collections/import", {"file": SimpleUploadedFile("x.jsonl", lines.encode())},
                           follow=True)
    assert "BibTeX or RIS" in response.text and not Collection.objects.exists()


def test_it_saves_a_search_and_links_back_to_it(client, corpus, alice):
    client.force_login(alice)
    client.post("/library/searches/save", {"q": "graph <b>", "aspect": "method", "page": "2"})
    saved = SavedSearch.objects.get(owner=alice)
    assert saved.params == {"q": "graph <b>", "aspect": "method"}
    page = client.get("/library/").text
    assert "q=graph+%3Cb%3E&amp;aspect=method" in page and "graph <b>" not in page


def test_it_saves_an_idea_from_a_novelty_report_and_links_them(client, corpus, alice,
                                                                django_capture_on_commit_callbacks):
    from webapp.reports.models import NoveltyReport

    report = NoveltyReport.objects.create(owner=alice, problem="Molecule properties <i>", method="Graph networks")
    client.force_login(alice)
    form = client.get(f"/library/ideas/new?report={report.pk}").text
    assert "Molecule properties &lt;i&gt;" in form
    with django_capture_on_commit_callbacks() as sent:
        response = client.post("/library/ideas/new", {"report": report.pk, "problem": report.problem,
                                                      "method": report.method, "findings": "", "title": ""})
    idea = SavedIdea.objects.get(owner=alice)
    assert response["Location"] == f"/library/ideas/{idea.pk}/" and list(idea.reports.all()) == [report]
    assert len(sent) == 1  # the first novelty-watch reading is queued
    page = client.get(f"/library/ideas/{idea.pk}/").text
    assert "Molecule properties &lt;i&gt;" in page and f"/reports/{report.pk}/" in page
