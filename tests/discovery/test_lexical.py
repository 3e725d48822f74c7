import math

import numpy as np

from discovery.lexical import BM25, BM25Config, tokenize

DOCS = {
    10: "Graph neural networks for molecule property prediction",
    11: "Convolutional networks for image classification",
    12: "Molecule generation with variational autoencoders and graph grammars",
    13: "Reinforcement learning with exploration bonuses",
    14: "The the the of and networks",
}


def _index(docs=DOCS):
    bm = BM25()
    bm.add(list(docs), list(docs.values()))
    return bm


def _naive_bm25(docs, query, k1=1.2, b=0.75):
    toks = {i: tokenize(t) for i, t in docs.items()}
    avgdl = sum(len(t) for t in toks.values()) / len(toks)
    n = len(docs)
    out = {}
    for i, t in toks.items():
        s = 0.0
        for term in tokenize(query):
            df = sum(term in u for u in toks.values())
            tf = t.count(term)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            s += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(t) / avgdl)) if tf else 0.0
        out[i] = s
    return out


def test_it_tokenizes_lowercase_without_stemming_or_stopwords():
    assert tokenize("The Networks, of GRAPHS: a x-ray!") == ["networks", "graphs", "ray"]


def test_it_scores_like_the_bm25_formula():
    bm = _index()
    query = "graph molecule networks"
    expected = _naive_bm25(DOCS, query)
    got = dict(zip(bm.ids.tolist(), bm.scores(query)))
    for i in DOCS:
        assert math.isclose(got[i], expected[i], rel_tol=1e-5, abs_tol=1e-6)


def test_it_ranks_documents_with_rare_query_terms_first():
    scores, ids = _index().top("molecule graph", k=3)
    assert set(ids[:2]) == {10, 12}
    assert len(ids) == 2 and np.all(np.diff(scores) <= 0)  # only matching documents come back


def test_it_returns_nothing_for_unknown_terms():
    scores, ids = _index().top("quantum chromodynamics", k=5)
    assert len(ids) == 0


def test_it_respects_an_allowed_mask():
    bm = _index()
    allowed = bm.ids != 10
    _, ids = bm.top("molecule graph", k=5, allowed=allowed)
    assert list(ids) == [12]


def test_it_adds_replaces_and_removes_like_a_rebuild():
    bm = _index({10: DOCS[10], 11: DOCS[11]})
    bm.add([12, 13, 11], [DOCS[12], DOCS[13], "Transformers for image classification"])
    bm.add([14], [DOCS[14]])
    bm.remove([13])
    expected = {10: DOCS[10], 11: "Transformers for image classification", 12: DOCS[12], 14: DOCS[14]}
    fresh = _index(expected)
    for q in ["image transformers", "graph molecule", "exploration"]:
        np.testing.assert_allclose(bm.scores(q), fresh.scores(q), rtol=1e-5)
    assert list(bm.ids) == sorted(expected)


def test_it_survives_save_and_load(tmp_path):
    bm = BM25(BM25Config(k1=1.5, b=0.5))
    bm.add(list(DOCS), list(DOCS.values()))
    bm.save(tmp_path / "lexical.npz")
    back = BM25.load(tmp_path / "lexical.npz")
    assert back.cfg == bm.cfg
    np.testing.assert_allclose(back.scores("graph networks"), bm.scores("graph networks"))
    assert list(back.ids) == list(bm.ids)
