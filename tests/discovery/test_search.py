import numpy as np
import pytest

from discovery import ASPECTS, SPACES
from discovery.index import IndexConfig, IndexSet
from discovery.search import SearchConfig, more_like, rank_of, rrf, search
from tests.conftest import SEED_PAPERS

DIM = 384
N = 400


def unit(x):
    x = np.asarray(x, np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Papers whose problem, method and findings come from independent clusters; the whole-paper
    vector is their normalised sum, as a paper embedding mixes its aspects."""
    rng = np.random.default_rng(0)
    clusters = {a: rng.integers(0, 20, N) for a in ASPECTS}
    vecs = {}
    for a in ASPECTS:
        centres = unit(rng.normal(size=(20, DIM)))
        vecs[a] = unit(centres[clusters[a]] + 0.5 * unit(rng.normal(size=(N, DIM))))
    vecs["paper"] = unit(sum(vecs[a] for a in ASPECTS))
    ids = np.arange(1, N + 1) * 7  # database ids need not be contiguous
    texts = [f"problem{clusters['problem'][i]} method{clusters['method'][i]} word{i}" for i in range(N)]
    s = IndexSet.open(tmp_path_factory.mktemp("idx"), IndexConfig())
    s.add(ids, vecs, texts=texts, years=1990 + np.arange(N) % 30, venues=["ICML", "ACL", "CVPR", "NeurIPS"] * (N // 4))
    return s, ids, vecs, clusters


def query_of(vecs, row):
    return {s: vecs[s][row] for s in SPACES}


def exhaustive(vecs, ids, aspect, q, k):
    return ids[np.argsort(-(vecs[aspect] @ q[aspect]))[:k]]


def test_it_ranks_by_the_chosen_aspect(corpus):
    s, ids, vecs, clusters = corpus
    q = query_of(vecs, 3)
    for aspect in ASPECTS:
        res = search(s, query_vectors=q, aspect=aspect, k=10)
        rows = [list(ids).index(h.id) for h in res.hits]
        same = np.mean([clusters[aspect][r] == clusters[aspect][3] for r in rows])
        assert same >= 0.9, aspect  # neighbours share the aspect's cluster, not the others'
        assert all(h.matched == aspect for h in res.hits)


@pytest.mark.parametrize("strategy", ["hierarchical", "direct"])
def test_it_equals_exhaustive_aspect_scoring_when_candidates_cover_the_corpus(corpus, strategy):
    s, ids, vecs, _ = corpus
    cfg = SearchConfig(broad_k=N, dense_k=N, strategy=strategy)
    q = query_of(vecs, 11)
    res = search(s, query_vectors=q, aspect="method", k=20, cfg=cfg)
    assert [h.id for h in res.hits] == list(exhaustive(vecs, ids, "method", q, 20))


def test_hits_carry_the_cosine_in_every_space_and_the_best_matching_aspect(corpus):
    s, ids, vecs, _ = corpus
    q = query_of(vecs, 5)
    hit = search(s, query_vectors=q, aspect="all", k=3).hits[0]
    row = list(ids).index(hit.id)
    for sp in SPACES:
        assert hit.sims[sp] == pytest.approx(float(vecs[sp][row] @ q[sp]), abs=1e-5)
    assert hit.matched == max(ASPECTS, key=hit.sims.get)


def test_it_fuses_lexical_and_dense_ranks(corpus):
    s, ids, vecs, clusters = corpus
    q = query_of(vecs, 0)
    target = 123  # lexically exact, dense far away
    res = search(s, query_text=f"word{target}", query_vectors=q, aspect="all", k=20)
    by_id = {h.id: h for h in res.hits}
    assert ids[target] in by_id and by_id[ids[target]].lexical > 0
    assert res.hits[0].id == ids[0] or res.hits[1].id == ids[0]
    assert res.total_candidates >= len(res.hits)
    assert set(res.timings) == {"filter", "dense", "lexical", "fuse", "total"}


def test_rrf_sums_reciprocal_ranks_and_ignores_absent_items():
    dense = rank_of(np.array([0.9, 0.1, 0.5]), np.ones(3, bool))
    lexical = rank_of(np.array([0.0, 4.0, 2.0]), np.array([False, True, True]))
    assert list(dense) == [1, 3, 2] and list(lexical) == [0, 1, 2]
    np.testing.assert_allclose(rrf([dense, lexical], [1.0, 1.0], 60), [1 / 61, 1 / 63 + 1 / 61, 1 / 62 + 1 / 62])


def test_filters_still_return_k_hits(corpus):
    s, ids, vecs, _ = corpus
    res = search(s, query_vectors=query_of(vecs, 0), query_text="method3", aspect="problem", k=10,
                 year_min=2000, year_max=2009, venue="ACL")
    assert len(res.hits) == 10
    rows = s.meta.rows(np.array([h.id for h in res.hits]))
    assert all(2000 <= s.meta.year[r] <= 2009 and s.meta.venues[s.meta.venue[r]] == "ACL" for r in rows)


def test_it_pages_with_offset(corpus):
    s, _, vecs, _ = corpus
    q = query_of(vecs, 9)
    first = search(s, query_vectors=q, aspect="findings", k=10)
    second = search(s, query_vectors=q, aspect="findings", k=5, offset=5)
    assert [h.id for h in second.hits] == [h.id for h in first.hits[5:]]


def test_it_accepts_a_custom_score_function(corpus):
    s, ids, vecs, _ = corpus
    q = query_of(vecs, 2)
    cfg = SearchConfig(score_fn=lambda sims, view: -sims["problem"], broad_k=N, dense_k=N)
    worst = search(s, query_vectors=q, aspect="problem", k=1, cfg=cfg).hits[0]
    assert worst.id == ids[np.argmin(vecs["problem"] @ q["problem"])]


def test_more_like_a_paper_leaves_the_paper_out(corpus):
    s, ids, vecs, clusters = corpus
    res = more_like(s, paper_id=int(ids[4]), aspect="method", k=5)
    assert ids[4] not in [h.id for h in res.hits] and len(res.hits) == 5
    rows = [list(ids).index(h.id) for h in res.hits]
    assert all(clusters["method"][r] == clusters["method"][4] for r in rows)


def test_more_like_user_text_uses_its_vectors_and_rejects_unknown_papers(corpus):
    s, ids, vecs, _ = corpus
    res = more_like(s, query_vectors={"paper": vecs["paper"][8]}, k=1)
    assert res.hits[0].id == ids[8]
    with pytest.raises(KeyError):
        more_like(s, paper_id=3, k=1)
    with pytest.raises(ValueError):
        search(s, query_vectors={"paper": vecs["paper"][8]}, aspect="novelty")


def test_an_empty_index_returns_no_hits(tmp_path):
    s = IndexSet.open(tmp_path)
    res = search(s, query_text="graph", query_vectors={"paper": unit(np.ones(DIM))}, aspect="method")
    assert res.hits == [] and res.total_candidates == 0


def test_it_searches_an_ivf_set_with_the_same_results_as_exact_scoring(corpus, tmp_path):
    _, ids, vecs, _ = corpus
    s = IndexSet.build(tmp_path, ids, vecs, cfg=IndexConfig(exact_below=100, nprobe=64))
    assert s.kind("method") == "ivf"
    q = query_of(vecs, 21)
    res = search(s, query_vectors=q, aspect="method", k=10, cfg=SearchConfig(strategy="direct"))
    assert [h.id for h in res.hits] == list(exhaustive(vecs, ids, "method", q, 10))
    assert res.hits[0].sims["findings"] == pytest.approx(float(vecs["findings"][21] @ q["findings"]), abs=1e-5)


@pytest.mark.slow
def test_it_finds_seed_papers_with_the_real_encoder(tmp_path):
    """Real all-MiniLM-L6-v2 vectors of the demo corpus's titles; BM25 over title + abstract."""
    from discovery import encoder

    lines = SEED_PAPERS.read_text().splitlines()
    titles, abstracts = lines[0:80:2], lines[1:80:2]
    vecs = encoder.encode(titles)
    ids = np.arange(1, len(titles) + 1)
    s = IndexSet.build(tmp_path, ids, {sp: vecs for sp in SPACES},
                       texts=[f"{t} {a}" for t, a in zip(titles, abstracts)])
    query = "8-bit matrix multiplication for large transformers"
    q = encoder.encode([query])[0]
    res = search(s, query_text=query, query_vectors={"paper": q}, aspect="method", k=3)
    assert res.hits[0].id == 1  # "LLM.int8(): 8-bit Matrix Multiplication for Transformers at Scale"
    assert res.hits[0].lexical > 0 and res.hits[0].sims["paper"] > 0.5
