"""The fast parts of the fault script (webapp.faults) in the suite: the access matrix over every
URL the resolver knows, and hostile paper text on every page, export and admin list. The slow
ones (workers killed, Redis restarted, load) are the script's, and tests/integration's."""
import pytest

from webapp.faults import access

# Fresh id sequences, so that id 1 of every type is alice's (the matrix's premise).
pytestmark = pytest.mark.django_db(transaction=True, reset_sequences=True)


def test_every_url_refuses_anonymous_bob_on_alices_objects_bad_tokens_and_posts_without_csrf(settings):
    settings.RATE_LIMITS = {name: (0, window) for name, (_, window) in settings.RATE_LIMITS.items()}
    checks, holes = access.run()
    assert holes == []
    assert checks > 200


def test_the_matrix_walks_the_resolver_so_a_new_url_is_covered():
    urls = dict(access.patterns())
    assert "/imports/1/" in urls and "/api/imports/1" in urls
    assert all("<" not in url and "(?P" not in url for url in urls)


def test_the_matrix_finds_a_hole_when_bob_can_read_alices_object(monkeypatch):
    """The check itself: a selector that forgets the owner is reported."""
    from webapp.imports import selectors
    from webapp.imports.models import ImportJob

    monkeypatch.setattr(selectors, "import_job_get", lambda *, job_id, user: ImportJob.objects.get(pk=job_id))
    _, holes = access.run()
    assert any("/imports/1/" in hole for hole in holes)


def test_hostile_paper_text_is_inert_on_every_page_export_and_admin_list():
    pages, live = access.hostile_text_pages()
    assert live == []
    assert pages > 50
