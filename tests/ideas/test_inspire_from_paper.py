"""'Inspire me from this paper' (/inspire/?paper=ID) never lists the paper itself (issue 15,
item 6: it came first, with problem similarity 1.00). Real database rows and FAISS index
(tests/ui/corpus.py), the stand-in encoder."""
import pytest

from tests.ui.corpus import corpus  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def test_it_leaves_the_source_paper_out_of_its_inspirations(client, alice, corpus):
    client.force_login(alice)
    source = corpus[0]
    found = client.get("/inspire/", {"paper": source.pk}).context["inspirations"]
    assert found, "the other papers still inspire"
    assert source.pk not in [f["id"] for f in found]


def test_a_typed_problem_excludes_nothing(client, alice, corpus):
    from webapp.ideas.services import paper_problem

    client.force_login(alice)
    source = corpus[0]
    found = client.get("/inspire/", {"problem": paper_problem(source)}).context["inspirations"]
    assert source.pk in [f["id"] for f in found]
