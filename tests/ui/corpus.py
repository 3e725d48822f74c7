"""A tiny indexed corpus for the browser-facing tests: real database rows, a real FAISS index
on disk, and the deterministic stand-in encoder (tests/fakes.py) behind discovery.encoder."""
from __future__ import annotations

import numpy as np
import pytest

from webapp.papers import search
from webapp.papers.models import IndexState, Paper

HOSTILE = ('We study <script>window.pwned=1</script> injection. '
           'We propose <img src=x onerror="window.pwned=2"> sanitisation. Results show it is inert.')

PAPERS = [
    ("Graph neural networks for molecule property prediction",
     "Predicting molecular properties is expensive. We propose a message passing graph network. "
     "Results show a 20% lower error than fingerprints.", 2020, "NeurIPS"),
    ("Protein folding with attention",
     "Protein structure prediction remains unsolved. We use a transformer with attention over residues. "
     "Experiments show accurate structures for small proteins.", 2021, "ICML"),
    ("Contrastive learning of sentence embeddings",
     "Sentence embeddings lack semantic structure. We train with a contrastive objective on paired sentences. "
     "Our embeddings improve retrieval accuracy.", 2021, "ACL"),
    ("Message passing for traffic forecasting",
     "Traffic forecasting needs spatial context. We propose a message passing graph network over road sensors. "
     "Results show better forecasts at rush hour.", 2019, "KDD"),
    ("Retrieval augmented question answering",
     "Open-domain question answering needs knowledge. We retrieve passages with dense embeddings. "
     "Accuracy improves on three benchmarks.", 2020, "EMNLP"),
    ("Hostile <b>markup</b> in a title", HOSTILE, 2022, "Venue <i>x</i>"),
]


def make_papers() -> list[Paper]:
    return [Paper.objects.create(title=t, abstract=a, year=y, venue=v, authors=["Ada Lovelace", "Alan Turing"],
                                 fingerprint=f"test:{i}") for i, (t, a, y, v) in enumerate(PAPERS)]


def _fake_vectors(papers: list[Paper]) -> dict[str, np.ndarray]:
    from tests.fakes import fake_encode

    def aspect_text(p: Paper, index: int) -> str:
        sentences = p.abstract.split(". ")
        return sentences[min(index, len(sentences) - 1)]

    vectors = {"paper": fake_encode([f"{p.title}. {p.abstract}" for p in papers])}
    for i, aspect in enumerate(("problem", "method", "findings")):
        vectors[aspect] = fake_encode([aspect_text(p, i) for p in papers])
    return vectors


def _index_directly(papers: list[Paper], index_dir, monkeypatch) -> None:
    from discovery.index import IndexSet
    from tests.fakes import fake_encode

    labels = ("problem", "method", "findings")
    for p in papers:
        p.segmentation = [{"text": s, "aspect": labels[i] if i < 3 else "other"}
                          for i, s in enumerate(s.strip() for s in p.abstract.split(". ") if s.strip())]
        p.indexed_hash = p.content_hash()
        p.save()
    index_set = IndexSet.build(index_dir, [p.pk for p in papers], _fake_vectors(papers),
                               texts=[f"{p.title}\n{p.abstract}" for p in papers],
                               years=[p.year or 0 for p in papers], venues=[p.venue for p in papers])
    version = index_set.save(force=True)
    IndexState.objects.filter(pk=IndexState.current().pk).update(version=version)
    monkeypatch.setattr(search, "_query_vectors", lambda text: {s: v[0] for s, v in _fake_vectors(
        [Paper(title=text, abstract=f"{text}. {text}. {text}")]).items()})


def index_corpus(papers: list[Paper], settings, tmp_path, monkeypatch) -> None:
    """Index the papers into a fresh index folder. These tests are about the pages, not about
    segmentation or embedding (tests/browser/test_imports_in_browser.py runs the real pipeline),
    so the first three sentences stand for problem, method and findings, embedded with the
    fake encoder, and queries are embedded the same way."""
    settings.INDEX_DIR = tmp_path / "index"
    search._index_set.cache_clear()
    _index_directly(papers, settings.INDEX_DIR, monkeypatch)
    search._index_set.cache_clear()


# Imported by the report, idea and inspiration page tests (outside tests/ui, whose conftest has
# its own): the tiny corpus indexed, with the stand-in encoder behind discovery.encoder.
@pytest.fixture
def corpus(settings, tmp_path, monkeypatch):
    papers = make_papers()
    index_corpus(papers, settings, tmp_path, monkeypatch)
    from tests.fakes import fake_encode

    monkeypatch.setattr("discovery.encoder.encode", fake_encode)
    search._calibration.cache_clear()
    yield papers
    search._index_set.cache_clear()
