import uuid

import pytest
from django.core.cache import caches

from tests.ui.corpus import index_corpus, make_papers
from webapp.papers import search


@pytest.fixture(autouse=True)
def _fresh_index(settings, tmp_path, monkeypatch):
    """Each test sees its own (empty) index folder, its own rate-limit counters, and limits
    high enough not to interfere (the tests of the limiter set their own)."""
    monkeypatch.setattr(caches["default"], "key_prefix", f"test-{uuid.uuid4().hex}")
    settings.INDEX_DIR = tmp_path / "empty-index"
    settings.RATE_LIMITS = {scope: (10_000, 60) for scope in settings.RATE_LIMITS}
    search._index_set.cache_clear()
    yield
    search._index_set.cache_clear()


@pytest.fixture
def papers(db):
    return make_papers()


@pytest.fixture
def corpus(papers, settings, tmp_path, monkeypatch):
    index_corpus(papers, settings, tmp_path, monkeypatch)
    return papers
