"""Digest build time: readers with 50-paper libraries against a window of new papers, ranked by
discovery.digest (shared negatives, Woodbury updates), beside a naive per-reader baseline that
fits every collection's classifier from scratch (its own normal equations over the same
negatives) and scans every new paper against every saved one. Both get the same inputs, so their
picks must be identical; the script checks that.

Readers are made from the index: each picks a random topic paper, its library is the topic's 50
nearest older papers by whole text, split into two collections of 25, plus one idea (the vectors
of the 51st nearest paper). The newest `--new` papers by id are the window. `--synthetic N`
replaces the index by N clustered unit vectors per space, for a machine without a built corpus.

    python -m discovery.bench.digest --index var/bench49k/index [--users 1000] [--new 2000] [--baseline-users 100]
    python -m discovery.bench.digest --synthetic 49084
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from discovery import ASPECTS, SPACES, digest
from discovery.index import IndexSet

CHUNK = 100  # readers whose classifiers are fitted in one matrix product


def synthetic_index(n: int, seed: int = 0, topics: int = 400) -> IndexSet:
    """N papers around `topics` centres; each aspect a noisy view of the paper's topic."""
    rng = np.random.default_rng(seed)
    dim = 384
    centres = rng.standard_normal((topics, dim)).astype(np.float32)
    topic = rng.integers(0, topics, n)
    vectors = {}
    for space in SPACES:
        x = centres[topic] + 1.2 * rng.standard_normal((n, dim)).astype(np.float32)
        vectors[space] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return IndexSet.build("/nonexistent", np.arange(1, n + 1), vectors)


def calibration_nn(idx: IndexSet, sample: int = 2000, seed: int = 0) -> dict[str, np.ndarray]:
    """Leave-one-out nearest-neighbour similarities per space (discovery.novelty.calibrate's)."""
    rng = np.random.default_rng(seed)
    ids = np.sort(rng.choice(idx.ids, min(sample, len(idx)), replace=False))
    nn = {}
    for space in SPACES:
        scores, found = idx.search(space, idx.reconstruct(space, ids), 2)
        nn[space] = np.sort(np.where(found == ids[:, None], -np.inf, scores).max(axis=1))
    return nn


def make_readers(idx: IndexSet, new_ids: np.ndarray, users: int, library: int, seed: int):
    rng = np.random.default_rng(seed)
    old = np.ones(len(idx), bool)
    old[idx.meta.rows(new_ids)] = False
    topics = rng.choice(idx.ids[old], users, replace=False)
    _, near = idx.search("paper", idx.reconstruct("paper", topics), library + 1, allowed_ids_mask=old)
    readers = []
    for u, row in enumerate(near):
        saved, idea_id = row[:library], row[library]
        half = library // 2
        cols = [digest.Collection((u, k), f"c{k}", ids, {a: idx.reconstruct(a, ids) for a in ASPECTS})
                for k, ids in enumerate((saved[:half], saved[half:]))]
        ideas = [digest.IdeaSource((u, "idea"), "idea", {s: idx.reconstruct(s, idea_id[None])[0] for s in SPACES})]
        readers.append((cols, ideas))
    return readers


def naive_collection_list(c, aspect, new, neg_vectors, gate, cfg):
    """The straightforward version: this collection's own normal equations, every new paper
    against every saved one."""
    saved, x = c.vectors[aspect], new.vectors[aspect]
    sims = x @ saved.T
    best, nearest = sims.argmax(axis=1), sims.max(axis=1)
    if len(saved) >= cfg.nn_below:
        p, n = digest._augment(saved), digest._augment(neg_vectors[aspect])
        a = p.T @ p / len(p) + n.T @ n / len(n) + cfg.ridge * np.eye(p.shape[1])
        w = np.linalg.solve(a, p.mean(axis=0) - n.mean(axis=0))
        score = x @ w[:-1] + w[-1]
        rows = np.argsort(-score, kind="stable")[:cfg.shortlist]
        rows = rows[score[rows] > 0]
    else:
        score, rows = nearest, np.arange(len(x))
    keep = (nearest[rows] >= gate.floor(aspect)) & ~np.isin(new.ids[rows], c.ids)
    picks = [digest.Pick(int(new.ids[r]), "collection", c.key, c.name, aspect, float(score[r]), float(nearest[r]),
                         int(c.ids[best[r]])) for r, k in zip(rows, keep) if k]
    return sorted(picks, key=lambda p: -p.score)


def naive_rank(new, cols, ideas, neg_vectors, gate, transition, cfg):
    lists = []
    for idea in ideas:
        found = digest._idea_lists(idea, new, np.ones(len(new.ids), bool), gate, transition)
        lists += [found[a] for a in digest.IDEA_ASPECTS if a in found]
    for aspect in ASPECTS:
        lists += [naive_collection_list(c, aspect, new, neg_vectors, gate, cfg) for c in cols]
    return digest.merge(lists, cfg.max_items)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", help="a published index folder (INDEX_DIR)")
    ap.add_argument("--synthetic", type=int, default=0, help="N clustered random papers instead of an index")
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--library", type=int, default=50)
    ap.add_argument("--new", type=int, default=2000)
    ap.add_argument("--baseline-users", type=int, default=100, help="readers the naive baseline is timed on")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--blas-threads", type=int, default=1, help="as webapp.library.digests runs it")
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        run(args)


def run(args) -> None:
    from discovery import transitions

    idx = IndexSet.open(args.index) if args.index else synthetic_index(args.synthetic, args.seed)
    new_ids = np.sort(idx.ids)[-args.new:]
    print(f"index: {len(idx)} papers ({args.index or 'synthetic'}), window {len(new_ids)} new papers, "
          f"{args.users} readers x {args.library} papers (2 collections + 1 idea), cores {os.cpu_count()}, "
          f"BLAS threads {args.blas_threads}, "
          f"load {os.getloadavg()[0]:.1f}")
    cfg = digest.DigestConfig()
    gate = digest.Gate.from_calibration(calibration_nn(idx), cfg)
    readers = make_readers(idx, new_ids, args.users, args.library, args.seed)
    transition = transitions.default()

    t0, c0 = time.perf_counter(), time.process_time()
    new = digest.NewPapers(new_ids, {s: idx.reconstruct(s, new_ids) for s in SPACES})
    neg_ids = digest.sample_negatives(idx.ids, cfg)
    neg_vectors = {s: idx.reconstruct(s, neg_ids) for s in SPACES}
    negatives = digest.Negatives.fit(neg_vectors, cfg)
    t_shared = time.perf_counter() - t0
    product = []
    for start in range(0, len(readers), CHUNK):  # as webapp.library.digests does
        chunk = readers[start:start + CHUNK]
        weights = digest.collection_weights([c for cols, _ in chunk for c in cols], negatives, cfg)
        product += [digest.rank(new, collections=cols, ideas=ideas, negatives=negatives, gate=gate,
                                transition=transition, weights=weights, cfg=cfg) for cols, ideas in chunk]
    t_product, c_product = time.perf_counter() - t0, time.process_time() - c0

    subset = readers[:args.baseline_users]
    t1, c1 = time.perf_counter(), time.process_time()
    naive = [naive_rank(new, cols, ideas, neg_vectors, gate, transition, cfg) for cols, ideas in subset]
    t_naive, c_naive = time.perf_counter() - t1, time.process_time() - c1
    same = all([(p.paper_id, p.key, p.aspect) for p in a] == [(p.paper_id, p.key, p.aspect) for p in b]
               for a, b in zip(product, naive))
    picks = np.asarray([len(p) for p in product])
    per_naive, cpu_naive = t_naive / max(len(subset), 1), c_naive / max(len(subset), 1)
    # CPU seconds beside wall seconds: on a shared machine the wall time also counts the waits
    print(f"product: {t_product:.1f} s wall, {c_product:.1f} s CPU for {len(readers)} readers ({t_shared:.2f} s "
          f"shared: window vectors and negatives), {1000 * (t_product - t_shared) / len(readers):.1f} ms per reader")
    print(f"naive:   {per_naive * 1000:.1f} ms wall, {cpu_naive * 1000:.1f} ms CPU per reader on {len(subset)} "
          f"readers -> {per_naive * len(readers):.1f} s wall, {cpu_naive * len(readers):.1f} s CPU for "
          f"{len(readers)} (extrapolated)")
    print(f"speed-up {per_naive * len(readers) / max(t_product, 1e-9):.1f}x wall, "
          f"{cpu_naive * len(readers) / max(c_product, 1e-9):.1f}x CPU; same picks as naive: "
          f"{'yes' if same else 'NO'}; picks per reader p50 {int(np.median(picks))}, min {picks.min()}, "
          f"max {picks.max()}; load after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
