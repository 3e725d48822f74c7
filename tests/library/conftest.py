import uuid

import pytest
from django.core.cache import caches

from tests.ui.corpus import corpus  # noqa: F401 (a fixture: the tiny indexed corpus, stand-in encoder)
from webapp.papers import search


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(caches["default"], "key_prefix", f"test-{uuid.uuid4().hex}")
    settings.INDEX_DIR = tmp_path / "empty-index"
    settings.UPLOAD_DIR = tmp_path / "uploads"
    settings.RATE_LIMITS = {"search": (10_000, 60), "import": (10_000, 60)}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    search._index_set.cache_clear()
    yield
    search._index_set.cache_clear()
