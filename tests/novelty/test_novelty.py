"""Decomposed Novelty Assessment on a real index with the real encoder."""
import numpy as np
import pytest

from discovery import novelty
from discovery.index import IndexSet
from discovery.novelty import Calibration, Idea, assess

from tests.conftest import aspect_text


def idea_of(store, problem_iid: int, method_iid: int, findings_iid: int | None = None) -> Idea:
    rows = store.papers
    return Idea(aspect_text(rows[problem_iid], "problem"), aspect_text(rows[method_iid], "method"),
                aspect_text(rows[findings_iid], "findings") if findings_iid else "")


def has_all_aspects(row) -> bool:
    return all(aspect_text(row, a) for a in ("problem", "method", "findings"))


@pytest.mark.parametrize("pick", [0, 10, 40, 80])
def test_it_judges_a_corpus_paper_close_to_existing_work_and_names_itself(store, pick):
    iid = [i for i, row in sorted(store.papers.items()) if has_all_aspects(row)][pick]
    result = assess(store.index_set, idea_of(store, iid, iid, iid), store.calibration)
    assert result.verdict == "close_to_existing"
    assert result.overlapping[0] == iid
    assert result.scores["overall"] < 0.05  # closer than 95% of corpus papers are to their nearest
    assert all(result.evidence[a][0].id == iid for a in ("problem", "method", "findings"))


def unrelated_pairs(store, n: int) -> list[tuple[int, int]]:
    """(a, b) pairs whose whole papers are among the least similar of the corpus, among papers
    with a sentence of every aspect (an idea with an empty method field has no method to match)."""
    ids = np.array([i for i, row in sorted(store.papers.items()) if has_all_aspects(row)])
    vecs = store.index_set.reconstruct("paper", ids)
    sims = vecs @ vecs.T
    order = np.argsort(sims, axis=None)
    pairs = []
    for flat in order:
        a, b = divmod(int(flat), len(ids))
        if a < b and not {a, b} & {x for p in pairs for x in p}:
            pairs.append((a, b))
        if len(pairs) == n:
            break
    return [(int(ids[a]), int(ids[b])) for a, b in pairs]


def test_it_judges_a_problem_with_an_unrelated_method_a_new_combination(store):
    for problem_iid, method_iid in unrelated_pairs(store, 4):
        result = assess(store.index_set, idea_of(store, problem_iid, method_iid), store.calibration)
        assert result.verdict == "new_combination", (problem_iid, method_iid, result.scores)
        assert result.evidence["problem"][0].id == problem_iid
        assert result.evidence["method"][0].id == method_iid
        assert set(result.overlapping) >= {problem_iid, method_iid}
        assert result.scores["overall"] > novelty.NoveltyConfig().close_below


def test_it_finds_matching_sentences_of_the_same_aspect(store):
    iid = next(i for i, row in sorted(store.papers.items()) if has_all_aspects(row))
    result = assess(store.index_set, idea_of(store, iid, iid, iid), store.calibration, sentences_of=store.sentences_of)
    top = result.evidence["method"][0]
    assert top.sentences and top.sentences[0] in aspect_text(store.papers[iid], "method")


def test_it_calibrates_scores_so_that_closer_means_less_novel(store):
    cal = store.calibration
    for space in novelty.CALIBRATED:
        scores = [cal.novelty(space, s) for s in np.linspace(-1, 1.01, 50)]
        assert scores[0] == 1.0 and scores[-1] == 0.0
        assert all(a >= b for a, b in zip(scores, scores[1:]))
        # half of the corpus papers are closer to their nearest neighbour than the median is
        assert cal.novelty(space, float(np.median(cal.nn[space]))) == pytest.approx(0.5, abs=0.05)


def test_it_stores_the_calibration_with_the_index_version(seed_index, store, tmp_path):
    path = novelty.calibration_path(seed_index, store.index_set.version)
    assert path.exists()
    loaded = Calibration.load(path)
    assert loaded.version == store.index_set.version
    assert set(loaded.nn) == set(novelty.CALIBRATED)
    assert all(np.array_equal(loaded.nn[s], store.calibration.nn[s]) for s in loaded.nn)


def test_it_splits_free_text_into_the_three_fields():
    text = ("Language models are expensive to serve on commodity hardware. We propose to quantize their "
            "weights to 8 bits with a vector-wise scale. Experiments show that memory halves with no loss in accuracy.")
    idea = novelty.split_idea(text)
    assert "expensive" in idea.problem and sum(bool(getattr(idea, a)) for a in ("problem", "method", "findings")) >= 2
    assert all(word in idea.text() for word in text.split())  # every sentence lands in a field to correct


def toy_index(tmp_path) -> IndexSet:
    """Papers 1..4 with years 2010, 2015, 2020, 0 (unknown); paper 3 is the idea itself."""
    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((4, 384)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = np.arange(1, 5)
    return IndexSet.build(tmp_path, ids, {s: vecs for s in ("paper", "problem", "method", "findings")},
                          years=[2010, 2015, 2020, 0], venues=["a"] * 4), vecs


def test_it_counts_only_papers_up_to_as_of_as_prior_work(tmp_path):
    index_set, vecs = toy_index(tmp_path)
    cal = novelty.calibrate(index_set)
    q = {s: vecs[2] for s in ("paper", "problem", "method", "findings")}
    now = assess(index_set, Idea("p", "m"), cal, vectors=q)
    before = assess(index_set, Idea("p", "m"), cal, vectors=q, as_of=2016)
    assert now.overlapping[0] == 3 and now.verdict == "close_to_existing"
    assert {e.id for e in before.evidence["problem"]} == {1, 2}  # not 3 (2020), not 4 (undated)
    assert before.nearest[novelty.COMBO] < 0.5 < now.nearest[novelty.COMBO]
    with pytest.raises(ValueError, match="up to 1990"):
        assess(index_set, Idea("p", "m"), cal, vectors=q, as_of=1990)
