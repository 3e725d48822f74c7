import numpy as np
import pytest

from discovery import aspects, encoder
from tests.discovery.stand_ins import CountingEncoder, CueSegmenter

RAW = aspects.AspectConfig(heads=())
PAPER = ("Graph parsing", "Parsing graphs is slow. We propose a linear time parser. Results show tenfold speedups.")
NO_FINDINGS = ("Tagging", "Tagging words is ambiguous. We propose a tagger using lattices.")


@pytest.fixture
def fake_encoder(monkeypatch):
    fake = CountingEncoder()
    monkeypatch.setattr(encoder, "encode", fake)
    return fake


def test_it_gives_every_paper_a_unit_vector_in_every_space(fake_encoder):
    e = aspects.embed_papers([PAPER, NO_FINDINGS], CueSegmenter())
    assert set(e.vectors) == {"paper", "problem", "method", "findings"}
    for v in e.vectors.values():
        assert v.shape == (2, encoder.DIM)
        np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert e.labels[0] == ["problem", "method", "findings"]


def test_it_encodes_each_sentence_once_plus_the_whole_text(fake_encoder):
    aspects.embed_papers([PAPER], CueSegmenter())
    assert len(fake_encoder.calls) == 4 and len(set(fake_encoder.calls)) == 4
    assert fake_encoder.calls[0] == f"{PAPER[0]} {PAPER[1]}"


def test_it_builds_an_aspect_from_its_own_sentences(fake_encoder):
    e = aspects.embed_papers([PAPER], CueSegmenter(), RAW)
    method = fake_encoder(["We propose a linear time parser."])[0]
    assert float(e.vectors["method"][0] @ method) > 0.999


def test_it_falls_back_to_the_paper_vector_for_a_missing_aspect(fake_encoder):
    e = aspects.embed_papers([NO_FINDINGS], CueSegmenter(), RAW)
    np.testing.assert_allclose(e.vectors["findings"][0], e.vectors["paper"][0])
    assert not np.allclose(e.vectors["method"][0], e.vectors["paper"][0])


def test_it_maps_aspects_through_their_trained_heads(fake_encoder, monkeypatch):
    flip = -np.eye(encoder.DIM, dtype=np.float32)
    monkeypatch.setattr(aspects, "_trained_heads", lambda: {"method": (flip, np.zeros(encoder.DIM, np.float32))})
    cfg = aspects.AspectConfig(heads=("method",))
    raw = aspects.embed_papers([PAPER], CueSegmenter(), RAW).vectors
    mapped = aspects.embed_papers([PAPER], CueSegmenter(), cfg).vectors
    np.testing.assert_allclose(mapped["method"], -raw["method"], atol=1e-6)
    np.testing.assert_allclose(mapped["problem"], raw["problem"])
    np.testing.assert_allclose(mapped["paper"], raw["paper"])


def test_it_can_pool_the_paper_vector_from_sentences(fake_encoder):
    e = aspects.embed_papers([PAPER], CueSegmenter(), aspects.AspectConfig(whole_text="sentences"))
    assert len(fake_encoder.calls) == 3
    assert np.isclose(np.linalg.norm(e.vectors["paper"][0]), 1.0)


def test_it_indexes_a_paper_without_abstract_by_its_title(fake_encoder):
    e = aspects.embed_papers([("Only a title", "")], CueSegmenter())
    assert e.sentences == [["Only a title"]]


def test_it_adds_the_weighted_aspect_similarity_to_the_paper_similarity():
    cfg = aspects.AspectConfig(weights={"problem": 0.5, "method": 2.0, "findings": 0.0})
    whole, aspect = np.array([0.5, 0.4]), np.array([0.1, 0.3])
    np.testing.assert_allclose(aspects.score(whole, aspect, "method", cfg), [0.7, 1.0])
    np.testing.assert_allclose(aspects.score(whole, aspect, "findings", cfg), whole)
    np.testing.assert_allclose(aspects.score(whole, aspect, "all", cfg), whole)


def test_it_puts_bm25_on_the_scale_of_the_pools_whole_paper_cosines():
    whole = np.array([0.2, 0.4, 0.6])
    term = aspects.lexical_term(whole, np.array([0.0, 5.0, 10.0]))
    assert np.isclose(term.std(), whole.std()) and np.isclose(term.mean(), 0.0)
    assert np.all(np.diff(term) > 0)
    # scaling the query's BM25 (a longer query) changes nothing
    np.testing.assert_allclose(aspects.lexical_term(whole, np.array([0.0, 50.0, 100.0])), term)
    # no lexical evidence: no term
    assert not aspects.lexical_term(whole, np.array([3.0, 3.0, 3.0])).any()
    assert not aspects.lexical_term(whole[:1], np.array([3.0])).any()


def test_the_pool_score_lets_a_shared_rare_term_break_a_dense_tie():
    cfg = aspects.AspectConfig(fused_weights=dict.fromkeys(aspects.ASPECTS, 0.5), lexical=0.3)
    sims = {"paper": np.array([0.5, 0.5, 0.1]), "method": np.array([0.3, 0.3, 0.1]),
            "lexical": np.array([0.0, 4.0, 0.0])}
    for facet in ("method", "all"):
        scores = aspects.pool_score(sims, facet, cfg)
        assert scores[1] > scores[0] > scores[2]
    # the dense-only score (the search's FAISS stage) keeps its own weights and no lexical term
    np.testing.assert_allclose(aspects.space_score(sims, "method", cfg), [0.575, 0.575, 0.125])


def test_the_ranker_scores_a_pool_with_its_own_bm25(fake_encoder):
    query = ("Q", "We use zeolite catalysts.")
    cands = {"plain": ("A", "We use catalysts."), "rare": ("B", "We use zeolite catalysts too.")}
    sims = aspects.Ranker(CueSegmenter()).similarities_and_lexical(query, cands)
    assert sims["lexical"][1] > sims["lexical"][0] > 0


def test_it_ranks_the_candidate_sharing_the_method_first(fake_encoder):
    query = ("Q", "Speech is noisy. We propose a linear time parser. Results show gains.")
    cands = {"same-method": ("A", "Vision is hard. We propose a linear time parser. Results show nothing."),
             "same-problem": ("B", "Speech is noisy. We propose dropout regularisation. Results vary.")}
    ranker = aspects.Ranker(CueSegmenter(), aspects.AspectConfig(fused_weights=dict.fromkeys(aspects.ASPECTS, 3.0)))
    assert ranker.rank(query, cands, "method")[0] == "same-method"
    assert ranker.rank(query, cands, "problem")[0] == "same-problem"


def test_it_does_not_re_encode_a_candidate_seen_before(fake_encoder):
    ranker = aspects.Ranker(CueSegmenter())
    ranker.rank(PAPER, {"a": NO_FINDINGS}, "all")
    before = len(fake_encoder.calls)
    ranker.rank(PAPER, {"a": NO_FINDINGS}, "problem")
    assert len(fake_encoder.calls) - before == 4  # the query's whole text and sentences only
