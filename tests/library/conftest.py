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


PLANTED = [
    ("Graph message passing for molecule toxicity",
     "Predicting molecular toxicity is expensive. We propose a message passing graph network. "
     "Results show a lower error than fingerprints.", 2024, "NeurIPS"),
    ("Contrastive sentence embeddings for retrieval",
     "Sentence embeddings lack semantic structure for retrieval. We train with a contrastive objective on paired "
     "sentences. Our embeddings improve retrieval accuracy further.", 2024, "ACL"),
]


@pytest.fixture
def world(db, settings, tmp_path, monkeypatch):
    """The tiny corpus plus two new papers planted next to its first (molecule graphs) and third
    (sentence embeddings) papers, all indexed with the stand-in encoder."""
    from tests.fakes import fake_encode
    from tests.ui.corpus import index_corpus, make_papers
    from webapp.papers.models import Paper

    papers = make_papers()
    papers += [Paper.objects.create(title=t, abstract=a, year=y, venue=v, authors=["Grace Hopper"],
                                    fingerprint=f"planted:{i}") for i, (t, a, y, v) in enumerate(PLANTED)]
    index_corpus(papers, settings, tmp_path, monkeypatch)
    monkeypatch.setattr("discovery.encoder.encode", fake_encode)
    search._calibration.cache_clear()
    yield papers
    search._index_set.cache_clear()
