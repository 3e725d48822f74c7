"""discovery.digest on its own: the shared-negatives classifier equals a direct fit, planted papers
are picked for the collection or idea they were planted next to, each paper once, with reasons."""
import numpy as np

from discovery import SPACES, digest
from discovery.transitions import Transition

D = 384


def unit(x):
    x = np.atleast_2d(x)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def near(centre, n, rng, noise=0.3):
    return unit(centre + noise * rng.standard_normal((n, D)) / np.sqrt(D) * 4)


def test_it_fits_the_balanced_ridge_classifier_exactly_with_shared_negatives():
    rng = np.random.default_rng(1)
    neg, pos = unit(rng.standard_normal((300, D))), unit(rng.standard_normal((12, D)) + 0.5)
    cfg = digest.DigestConfig(ridge=0.05)
    w = digest.classifier_weights(pos, digest.Negatives.fit({"problem": neg}, cfg), "problem")
    xp, xn = np.hstack([pos, np.ones((12, 1))]), np.hstack([neg, np.ones((300, 1))])
    a = xp.T @ xp / 12 + xn.T @ xn / 300 + 0.05 * np.eye(D + 1)
    direct = np.linalg.solve(a, xp.mean(axis=0) - xn.mean(axis=0))
    assert np.allclose(w, direct, rtol=1e-3, atol=1e-3 * np.abs(direct).max())  # M is kept in float32
    batched = digest.collection_weights([digest.Collection("c", "C", np.arange(12), {a: pos for a in SPACES[1:]})],
                                        digest.Negatives.fit({a: neg for a in SPACES[1:]}, cfg), cfg)
    assert np.allclose(batched[("c", "problem")], w, atol=1e-6 * np.abs(w).max())
    assert (xp @ w > 0).mean() > 0.9 and (xn @ w < 0).mean() > 0.9


def _world(rng):
    centres = {name: rng.standard_normal(D) for name in ("graphs", "proteins", "idea")}
    background = unit(rng.standard_normal((400, D)))
    return centres, background


def test_it_picks_planted_papers_for_their_collection_and_idea_once_each():
    rng = np.random.default_rng(2)
    c, background = _world(rng)
    new_vecs = np.vstack([near(c["graphs"], 3, rng), near(c["proteins"], 3, rng), near(c["idea"], 2, rng),
                          unit(rng.standard_normal((40, D)))])
    new = digest.NewPapers(np.arange(1000, 1000 + len(new_vecs)), {s: new_vecs for s in SPACES})
    cfg = digest.DigestConfig(negatives=400)
    negatives = digest.Negatives.fit({s: background for s in SPACES}, cfg)
    gate = digest.Gate({s: 0.6 for s in SPACES})
    graphs = near(c["graphs"], 8, rng)  # a classifier
    proteins = near(c["proteins"], 2, rng)  # nearest neighbours
    collections = [digest.Collection("g", "Graphs", np.arange(8), {a: graphs for a in SPACES[1:]}),
                   digest.Collection("p", "Proteins", np.arange(8, 10), {a: proteins for a in SPACES[1:]})]
    idea_vec = unit(c["idea"])[0]
    ideas = [digest.IdeaSource("i", "My idea", {s: idea_vec for s in SPACES})]
    picks = digest.rank(new, collections=collections, ideas=ideas, negatives=negatives, gate=gate,
                        transition=Transition(dim=D), cfg=cfg)
    by_source = {}
    for p in picks:
        by_source.setdefault(p.key, set()).add(p.paper_id)
    assert by_source["g"] == {1000, 1001, 1002}
    assert by_source["p"] == {1003, 1004, 1005}
    assert by_source["i"] == {1006, 1007}
    assert len({p.paper_id for p in picks}) == len(picks) == 8  # each once; no random paper passes the gate
    assert all(p.nearest_id in range(10) for p in picks if p.source == "collection")


def test_a_window_mask_keeps_papers_of_other_windows_out():
    rng = np.random.default_rng(3)
    c, background = _world(rng)
    vecs = near(c["graphs"], 4, rng)
    new = digest.NewPapers(np.arange(4), {s: vecs for s in SPACES})
    cfg = digest.DigestConfig()
    saved = near(c["graphs"], 2, rng)
    collection = digest.Collection(1, "G", np.asarray([99, 98]), {a: saved for a in SPACES[1:]})
    picks = digest.rank(new, collections=[collection],
                        ideas=[], negatives=digest.Negatives.fit({s: background for s in SPACES}, cfg),
                        gate=digest.Gate({s: 0.5 for s in SPACES}), transition=Transition(dim=D),
                        allowed=np.asarray([True, False, True, False]))
    assert {p.paper_id for p in picks} == {0, 2}


def test_merge_goes_round_robin_and_skips_papers_already_picked():
    def pk(i, key):
        return digest.Pick(i, "collection", key, key, "problem", 1.0, 1.0)

    lists = [[pk(1, "a"), pk(2, "a"), pk(3, "a")], [pk(1, "b"), pk(4, "b")]]
    assert [(p.paper_id, p.key) for p in digest.merge(lists, 10)] == [(1, "a"), (4, "b"), (2, "a"), (3, "a")]
    assert len(digest.merge(lists, 2)) == 2
