"""MIR-style inspiration retrieval on a real small index: reasons, diversity, candidate ranking."""
import numpy as np

from discovery import inspiration
from discovery.inspiration import Inspiration, InspirationConfig, inspire, mmr

from tests.conftest import aspect_text
from tests.fakes import ScriptedEngine

PROBLEM = "Large language models are too big to run on a single consumer GPU."


def test_it_gives_each_inspiration_its_reasons(store):
    found = inspire(store.index_set, PROBLEM, sentences_of=store.sentences_of)
    assert len(found) == InspirationConfig.k
    for f in found:
        assert f.problem_sentence and f.method_sentence
        assert f.via in ("problem", "transition", "both")
        texts = [t for t, _ in store.sentences_of([f.id])[f.id]]
        assert f.problem_sentence in texts and f.method_sentence in texts


def test_it_puts_the_paper_that_solved_the_problem_first(store):
    iid = next(i for i, row in sorted(store.papers.items()) if "int8" in row["title"].lower())
    problem = aspect_text(store.papers[iid], "problem") or store.papers[iid]["title"]
    found = inspire(store.index_set, problem, sentences_of=store.sentences_of)
    assert iid in [f.id for f in found[:3]]


def test_it_trades_relevance_for_diversity():
    vectors = np.array([[1, 0], [1, 0], [0, 1]], np.float32)
    relevance = np.array([1.0, 0.99, 0.8])
    assert mmr(relevance, vectors, 2, lam=1.0) == [0, 1]
    assert mmr(relevance, vectors, 2, lam=0.5) == [0, 2]


def test_it_keeps_the_order_when_the_llm_reranker_fails():
    found = [Inspiration(i, 1.0, 0.5, 0.5, "both", method_sentence=f"m{i}") for i in range(3)]
    assert inspiration.llm_rerank(ScriptedEngine(["x"]), PROBLEM, found, 3) == found


def test_it_ranks_given_candidates_by_transferable_method(store):
    rows = sorted(store.papers.values(), key=lambda r: r["iid"])
    solver = next(r for r in rows if "int8" in r["title"].lower())
    others = [r for r in rows if r is not solver][:6]
    candidates = [(r["id"], r["title"], " ".join(s["text"] for s in r["segmentation"])) for r in others + [solver]]
    ranking = inspiration.rank_candidates(aspect_text(solver, "problem") or solver["title"], candidates)
    assert sorted(ranking) == sorted(c[0] for c in candidates)
    assert ranking[0] == solver["id"]


def test_it_never_returns_the_paper_the_problem_came_from(store):
    iid = next(i for i, row in sorted(store.papers.items()) if "int8" in row["title"].lower())
    problem = aspect_text(store.papers[iid], "problem") or store.papers[iid]["title"]
    found = inspire(store.index_set, problem, sentences_of=store.sentences_of, exclude={iid})
    assert iid not in [f.id for f in found]
    assert len(found) == InspirationConfig.k


def test_whole_text_similarity_dominates_the_aspect_signals():
    # candidate 0 matches the problem as a whole; candidate 1 only in the aspect signals
    sig = {"text": np.array([0.80, 0.55, 0.50, 0.45]), "lexical": np.array([6.0, 2.0, 1.0, 1.0]),
           "method": np.array([0.30, 0.70, 0.30, 0.30]), "transition": np.array([0.30, 0.70, 0.30, 0.30]),
           "problem": np.array([0.40, 0.70, 0.40, 0.40])}
    assert int(np.argmax(inspiration.relevance(sig, InspirationConfig()))) == 0
    assert int(np.argmax(sig["problem"] + sig["transition"])) == 1  # what the aspect-only score chose


def test_signals_are_put_on_one_scale_within_a_request():
    assert np.allclose(inspiration.zscore(np.array([1.0, 2.0, 3.0])), [-1.2247, 0.0, 1.2247], atol=1e-4)
    assert not inspiration.zscore(np.array([0.3, 0.3])).any()  # a constant signal says nothing


def test_a_candidate_with_a_matching_method_sentence_moves_up():
    intro = "Language models are large. Serving them is expensive on commodity hardware."
    twin = ("a", "Efficient serving of language models", intro + " We study batching policies for request queues.")
    matching = ("b", "Efficient serving of language models",
                intro + " We quantize the weights to 8-bit integers and use int8 matrix multiplication.")
    unrelated = ("c", "Protein folding with graph networks", "Proteins fold. We use message passing on residue graphs.")
    problem = "Large language models are too big to fit on one GPU; we need to shrink their weights in memory."
    ranking = inspiration.rank_candidates(problem, [twin, unrelated, matching])
    assert ranking.index("b") < ranking.index("a") < ranking.index("c")
