"""The field map: hierarchies of clusters, their c-TF-IDF labels, and the problem x method gap map,
on a planted corpus (four problem families x four method families, one combination left out
although the method is used on the problem family most like it)."""
import numpy as np
import pytest

from discovery import fieldmap, gaps, hierarchy, labels

PROBLEMS = ["protein folding structure", "protein docking binding", "traffic forecasting roads",
            "speech recognition audio"]
METHODS = ["graph message passing", "transformer attention layers", "random forest trees",
           "diffusion denoising sampler"]
MISSING = (0, 3)  # protein folding x diffusion: used on protein docking (problem 1), never here
PER_CELL = 12


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def corpus():
    rng = np.random.default_rng(7)
    p_centres = _unit(rng.standard_normal((4, 64)))
    p_centres[1] = _unit(p_centres[0] + 1.2 * _unit(rng.standard_normal(64)))  # docking is like folding
    m_centres = _unit(rng.standard_normal((4, 64)))
    rows = []
    for i in range(4):
        for j in range(4):
            if (i, j) != MISSING:
                rows += [(i, j)] * PER_CELL
    p = np.array([r[0] for r in rows])
    m = np.array([r[1] for r in rows])
    n = len(rows)
    vectors = {"problem": _unit(p_centres[p] + 0.05 * rng.standard_normal((n, 64))),
               "method": _unit(m_centres[m] + 0.05 * rng.standard_normal((n, 64)))}
    vectors["paper"] = _unit(vectors["problem"] + vectors["method"])
    texts = {"problem": [f"We study {PROBLEMS[i]}." for i in p], "method": [f"We use {METHODS[j]}." for j in m]}
    texts["paper"] = [f"{a} {b}" for a, b in zip(texts["problem"], texts["method"])]
    years = 2010 + np.arange(n) % 12
    cfg = fieldmap.FieldMapConfig(hierarchy=hierarchy.HierarchyConfig(branching=(4, 2), min_size=5),
                                  gaps=gaps.GapConfig(min_family=10, neighbours=1))
    built = fieldmap.build(np.arange(100, 100 + n), vectors, years, texts, cfg)
    return built, p, m


def _families(h, level, truth):
    """The planted family of each cluster of a level (all its papers share it)."""
    out = []
    for c in h.levels[level]:
        families = set(truth[c.rows].tolist())
        assert len(families) == 1, f"cluster {c.id} mixes families {families}"
        out.append(families.pop())
    return out


def test_it_recovers_the_planted_families_as_level_one(corpus):
    built, p, m = corpus
    assert sorted(_families(built.hierarchies["problem"], 0, p)) == [0, 1, 2, 3]
    assert sorted(_families(built.hierarchies["method"], 0, m)) == [0, 1, 2, 3]


def test_every_level_partitions_the_corpus_and_children_nest(corpus):
    built, _, _ = corpus
    h = built.hierarchies["method"]
    for level, clusters in enumerate(h.levels):
        rows = np.sort(np.concatenate([c.rows for c in clusters]))
        assert np.array_equal(rows, np.arange(len(built.ids)))
        for c in clusters:
            assert (h.assignment[level][c.rows] == clusters.index(c)).all()
            if level:
                assert set(c.rows) <= set(h.cluster(c.parent).rows)
    assert {c.id for c in h.children("1")} == {"1.1", "1.2"}


def test_labels_name_the_cluster_s_own_words(corpus):
    built, p, _ = corpus
    h = built.hierarchies["problem"]
    for c, family in zip(h.levels[0], _families(h, 0, p)):
        assert c.label and set(" ".join(c.label).split()) <= set(PROBLEMS[family].split()), (c.label, family)


def test_it_finds_the_left_out_combination_first(corpus):
    built, p, m = corpus
    level = built.gap_levels[0]
    problems = _families(built.hierarchies["problem"], 0, p)
    methods = _families(built.hierarchies["method"], 0, m)
    top = level["under_explored"][0]
    assert (problems[level["problem"].index(top["problem"])], methods[level["method"].index(top["method"])]) == MISSING
    assert top["observed"] == 0 and top["expected"] == pytest.approx(3 * PER_CELL / 4)  # 36 papers x docking's 1/4
    # the papers nearest the missing combination: folding with another method, or docking with diffusion
    for pid in top["nearest"]:
        row = int(pid) - 100
        assert p[row] == MISSING[0] or (m[row] == MISSING[1] and p[row] == 1)


def test_the_gap_map_counts_every_paper_once(corpus):
    built, _, _ = corpus
    level = built.gap_levels[0]
    assert sum(cell[2] for cell in level["cells"]) == len(built.ids)
    assert all(sum(cell[4]) == cell[2] for cell in level["cells"])  # every paper has a year here
    assert len(level["periods"]) == len(level["cells"][0][4])


def test_the_json_lists_clusters_with_sizes_years_and_representatives(corpus):
    built, _, _ = corpus
    data = built.to_json()
    clusters = data["spaces"]["method"]["clusters"]
    top = [c for c in clusters if c["level"] == 1]
    assert sum(c["size"] for c in top) == data["papers"] == len(built.ids)
    for c in top:
        assert sum(c["years"].values()) == c["size"] and len(c["representatives"]) == 5
        assert c["trend"] in ("growing", "fading", "steady") and 0 <= c["x"] <= 4095
    arrays = fieldmap.load_arrays(built.arrays_bytes())
    assert arrays["method.assign1"].shape == (len(built.ids),) and arrays["method.centroids2"].shape[1] == 64


def test_a_new_point_lands_in_the_cluster_nearest_it(corpus):
    built, _, _ = corpus
    h = built.hierarchies["problem"]
    target = h.levels[0][2]
    assert hierarchy.nearest_cluster(h, 1, target.centroid * 3.0).id == target.id
    assert hierarchy.nearest_cluster(h, 5, target.centroid) is None


def test_a_cluster_too_small_to_split_is_carried_down():
    vectors = np.random.default_rng(0).standard_normal((12, 8))
    h = hierarchy.build(vectors, hierarchy.HierarchyConfig(branching=(2, 3), min_size=5))
    assert len(h.levels[0]) == 2
    for c in h.levels[1]:
        assert c.id.endswith(".1") and c.size == h.cluster(c.parent).size


def test_c_tf_idf_prefers_words_rare_elsewhere():
    texts = ["graph network for molecules", "graph network for traffic", "graph attention molecules",
             "forest trees for credit", "forest trees for fraud", "boosted trees credit"]
    terms = labels.term_matrix(texts)
    got = labels.label_clusters(terms, np.array([0, 0, 0, 1, 1, 1]), 2)
    assert got[0][0] in ("graph", "graph network") and got[1][0] in ("trees", "forest trees", "forest")
    terms_of = [labels.paper_terms(t) for t in texts]
    assert labels.label_coverage(got[0], terms_of[:3]) == 1.0 and labels.label_coverage(got[0], terms_of[3:]) == 0.0


def test_an_empty_corpus_builds_an_empty_map():
    empty = np.zeros((0, 8), np.float32)
    built = fieldmap.build([], {"problem": empty, "method": empty}, [], {"problem": [], "method": []})
    assert built.to_json()["spaces"]["problem"]["clusters"] == [] and built.gap_levels == []
