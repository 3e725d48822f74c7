"""Search benchmark: python -m discovery.bench.search [--index DIR] [--large 1000000] [--threads 2]

Prints, side by side in one run: query-encoding latency; search-service latency (p50 / p99 wall,
mean CPU per query) over the 49k-paper corpus (ml_papers) per aspect, hierarchical vs direct,
with and without a selective filter; recall@10 of hierarchical and direct aspect search against
exhaustive scoring, for the plain aspect cosine and for the product's score (aspects.space_score);
exact (flat) vs IVF vs HNSW (build time, memory, p50/p99, recall@10) at 49k and at 1M vectors.

Vectors: with `--index DIR` (a site's INDEX_DIR after `manage.py reindex`, or a standalone
index), the 49k rows use that real index: its vectors, its BM25, its filters. Without it,
`--real` papers (default 1500)
are embedded with the real encoder (whole paper = title + abstract; aspects = first / middle /
last third of the abstract, see `thirds`) and cached in var/cache/; the rest are synthetic
mixtures of those (see `synthesize`). Queries are real paper titles, really encoded.
"""
from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import re
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from discovery import ASPECTS, SPACES
from discovery.aspects import space_score
from discovery.index import IndexConfig, IndexSet, Meta, build_space
from discovery.search import SearchConfig, aspect_score, search
from discovery.settings import PROJECT_ROOT, models_offline, shared_data_dir

SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(])")


def load_corpus() -> list[dict]:
    with gzip.open(shared_data_dir() / "ml_papers.jsonl.gz", "rt") as f:
        return [json.loads(line) for line in f]


def thirds(abstract: str) -> dict[str, str]:
    """Cheap stand-in aspect texts: the product's aspects (discovery.aspects) encode every
    sentence and run the segmenter, several times the encoding cost. Abstracts mostly run
    background -> method -> results (CSAbstruct's label order): first, middle and last third."""
    sents = SENTENCE.split(abstract.strip()) or [abstract]
    n = len(sents)
    cut1, cut2 = max(1, round(n / 3)), max(1, round(2 * n / 3))
    parts = [sents[:cut1], sents[cut1:cut2] or sents[:cut1], sents[cut2:] or sents[-1:]]
    return {a: " ".join(p) for a, p in zip(ASPECTS, parts)}


def real_sample(papers: list[dict], n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Whole-paper and aspect vectors of n random papers from the real encoder, cached."""
    cache = PROJECT_ROOT / "var" / "cache" / f"bench_search_real_{n}_{seed}.npz"
    if cache.exists():
        with np.load(cache) as z:
            return {k: z[k] for k in z.files}
    from discovery import encoder

    rows = np.sort(np.random.default_rng(seed).choice(len(papers), n, replace=False))
    picked = [papers[i] for i in rows]
    out = {"rows": rows, "paper": encoder.encode([f"{p['title']}. {p['abstract']}" for p in picked])}
    split = [thirds(p["abstract"]) for p in picked]
    for a in ASPECTS:
        out[a] = encoder.encode([s[a] for s in split])
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **out)
    return out


def query_titles(papers: list[dict], exclude_rows: np.ndarray, n: int, seed: int = 1):
    """Titles of n papers outside the real sample, as typed queries, with their real vectors."""
    cache = PROJECT_ROOT / "var" / "cache" / f"bench_search_queries_{n}_{seed}_{len(exclude_rows)}.npz"
    rng = np.random.default_rng(seed)
    pool = np.setdiff1d(np.arange(len(papers)), exclude_rows)
    rows = np.sort(rng.choice(pool, n, replace=False))
    titles = [papers[i]["title"] for i in rows]
    if cache.exists():
        with np.load(cache) as z:
            return titles, z["vectors"]
    from discovery import encoder

    vectors = encoder.encode(titles)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, vectors=vectors)
    return titles, vectors


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def synthesize(real: dict[str, np.ndarray], n: int, spaces, *, noise: float = 0.5, seed: int = 0,
               chunk: int = 100_000) -> dict[str, np.ndarray]:
    """n synthetic papers, each a real paper mixed with one of its 10 nearest real neighbours
    (weight U(0.5, 1)) plus isotropic noise. Anchors and weights are shared by all spaces, so the
    real sample's relation between whole-paper and aspect vectors carries over."""
    rng = np.random.default_rng(seed)
    paper = real["paper"]
    neighbours = np.argsort(-(paper @ paper.T), axis=1)[:, 1:11]
    a = rng.integers(0, len(paper), n)
    b = neighbours[a, rng.integers(0, 10, n)]
    alpha = rng.uniform(0.5, 1.0, (n, 1)).astype(np.float32)
    out = {}
    for s in spaces:
        x = np.empty((n, paper.shape[1]), np.float32)
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            mix = unit(alpha[lo:hi] * real[s][a[lo:hi]] + (1 - alpha[lo:hi]) * real[s][b[lo:hi]])
            x[lo:hi] = unit(mix + noise * unit(rng.standard_normal(mix.shape, dtype=np.float32)))
        out[s] = x
    return out


@contextlib.contextmanager
def build_threads(n: int):
    """Builds use every core; queries run on one thread (see main)."""
    faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(1)


def nn_cosine(x: np.ndarray) -> float:
    """Median cosine of each vector with its nearest other vector."""
    sims = x @ x.T
    np.fill_diagonal(sims, -1)
    return float(np.median(sims.max(axis=1)))


def pct(times_s: list[float]) -> tuple[float, float]:
    ms = np.asarray(times_s) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def recall(got: np.ndarray, want: np.ndarray) -> float:
    """Mean fraction of the exact top-k found, over queries (rows)."""
    return float(np.mean([len(set(g[g >= 0]) & set(w)) / len(w) for g, w in zip(got, want)]))


def timed_search(index, queries: np.ndarray, k: int, **params) -> tuple[np.ndarray, list[float]]:
    found, times = [], []
    for q in queries:
        t = time.perf_counter()
        _, ids = index.search(q[None], k, **params)
        times.append(time.perf_counter() - t)
        found.append(ids[0])
    return np.asarray(found), times


def index_bytes(index) -> int:
    with tempfile.TemporaryDirectory(dir=PROJECT_ROOT / "var" / "cache") as tmp:
        faiss.write_index(index, f"{tmp}/i")
        return os.path.getsize(f"{tmp}/i")


def compare_index_types(ids: np.ndarray, x: np.ndarray, queries: np.ndarray, *, hnsw: bool, threads: int,
                        k: int = 10, nprobes=(8, 16, 32, 64)):
    """Exact (flat) vs IVF (vs HNSW) on one space: build time, memory, p50/p99, recall@k.
    Returns the IVF index (with the default config) for reuse."""
    print(f"\n  {'index':36s} {'build s':>8s} {'MB':>7s} {'p50 ms':>7s} {'p99 ms':>7s} {'recall@10':>9s}")
    t = time.perf_counter()
    with build_threads(threads):
        flat = build_space(ids, x, IndexConfig(exact_below=len(ids) + 1))
    build_flat = time.perf_counter() - t
    want, times = timed_search(flat, queries, k)
    row = lambda name, b, idx, tm, r: print(  # noqa: E731
        f"  {name:36s} {b:8.1f} {index_bytes(idx) / 2**20:7.0f} {pct(tm)[0]:7.2f} {pct(tm)[1]:7.2f} {r:9.3f}")
    row("flat (exact)", build_flat, flat, times, 1.0)
    del flat
    t = time.perf_counter()
    with build_threads(threads):
        ivf = build_space(ids, x, IndexConfig(exact_below=0))
    build_ivf = time.perf_counter() - t
    for nprobe in sorted({*nprobes, ivf.nprobe}):
        got, times = timed_search(ivf, queries, k, params=faiss.SearchParametersIVF(nprobe=nprobe))
        default = " (default)" if nprobe == ivf.nprobe else ""
        row(f"IVF{ivf.nlist},Flat nprobe={nprobe}{default}", build_ivf, ivf, times, recall(got, want))
    if hnsw:
        t = time.perf_counter()
        h = faiss.IndexHNSWFlat(x.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        h.hnsw.efConstruction = 40
        with build_threads(threads):
            h.add(x)
        build_h = time.perf_counter() - t
        for ef in (32, 64):
            got, times = timed_search(h, queries, k, params=faiss.SearchParametersHNSW(efSearch=ef))
            row(f"HNSW32 efSearch={ef}", build_h, h, times, recall(ids[got], want))
    return ivf


def exact_top(scores, n_queries: int, k: int, exclude=None, chunk: int = 16) -> np.ndarray:
    """Exhaustive top-k rows (the ground truth); `scores(lo, hi)` gives queries lo..hi's score of
    every row; `exclude` leaves one row out per query."""
    out = []
    for lo in range(0, n_queries, chunk):
        sims = scores(lo, min(n_queries, lo + chunk))
        if exclude is not None:
            sims[np.arange(len(sims)), exclude[lo:lo + chunk]] = -np.inf
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, top, 1), axis=1)
        out.append(np.take_along_axis(top, order, 1))
    return np.concatenate(out)


def exhaustive_scorer(vecs: dict[str, np.ndarray], queries: list[dict], view: str, score_fn):
    """score_fn applied to every paper's cosines, the way search() applies it to candidates."""
    q = {sp: np.stack([qq[sp] for qq in queries]) for sp in ("paper", view)}
    return lambda lo, hi: score_fn({sp: q[sp][lo:hi] @ vecs[sp].T for sp in q}, view)


def run_service(s: IndexSet, aspect: str, queries: list[dict], cfg: SearchConfig, k: int = 10,
                texts=None, exclude=None, **filters) -> tuple[np.ndarray, list[float], list[int], float]:
    """(ids found, wall seconds per query, hits per query, mean CPU ms per query). CPU time is
    what a query costs without the waiting a shared machine adds to wall time."""
    found, times, counts = [], [], []
    cpu = time.process_time()
    for i, q in enumerate(queries):
        ex = () if exclude is None else (int(exclude[i]),)
        t = time.perf_counter()
        res = search(s, query_text=texts[i] if texts else None, query_vectors=q, aspect=aspect, k=k,
                     exclude_ids=ex, cfg=cfg, **filters)
        times.append(time.perf_counter() - t)
        found.append([h.id for h in res.hits] + [-1] * (k - len(res.hits)))
        counts.append(len(res.hits))
    return np.asarray(found), times, counts, (time.process_time() - cpu) * 1000 / len(queries)


def compare_strategies(s: IndexSet, vecs: dict[str, np.ndarray], ids: np.ndarray, label: str,
                       queries: list[dict], exclude_rows=None, broad_ks=(200, 1000, 3000),
                       aspects=ASPECTS, score_fn=aspect_score) -> None:
    """Hierarchical (broad whole-paper candidates re-ranked in the aspect) vs direct aspect search,
    dense only: recall@10 against exhaustive scoring of every paper with the same score_fn."""
    print(f"\n  {label}, score = {score_fn.__module__.split('.')[-1]}.{score_fn.__name__}: "
          "recall@10 vs exhaustive scoring / p50 / p99 / cpu ms (dense only)")
    print(f"  {'strategy':24s}" + "".join(f"{a:>32s}" for a in aspects))
    truth = {a: ids[exact_top(exhaustive_scorer(vecs, queries, a, score_fn), len(queries), 10, exclude_rows)]
             for a in aspects}
    exclude = None if exclude_rows is None else ids[exclude_rows]
    plans = [(f"{strategy} broad={b}", SearchConfig(strategy=strategy, broad_k=b, dense_k=10, score_fn=score_fn))
             for strategy in ("direct", "hierarchical") for b in broad_ks]
    for name, cfg in plans:
        cells = []
        for a in aspects:
            got, times, _, cpu = run_service(s, a, queries, cfg, exclude=exclude)
            p50, p99 = pct(times)
            cells.append(f"{recall(got, truth[a]):.3f} / {p50:5.1f} / {p99:5.1f} / {cpu:4.1f}")
        print(f"  {name:24s}" + "".join(f"{c:>32s}" for c in cells))


def encoding_latency(titles: list[str], n: int = 30) -> None:
    from discovery import encoder

    encoder.encode(titles[:1])  # load the model outside the timing
    times = []
    for title in titles[:n]:
        t = time.perf_counter()
        encoder.encode([title])
        times.append(time.perf_counter() - t)
    print(f"  query encoding (all-MiniLM-L6-v2, one title): p50 {pct(times)[0]:.1f} ms, p99 {pct(times)[1]:.1f} ms"
          " (reported separately: not included in the search latencies below)")


def service_latency(s: IndexSet, titles: list[str], qs: list[dict]) -> None:
    """The search service as the browser calls it: BM25 + dense, fused, k=20, the product's score."""
    print(f"\n  {'search(), aspects.space_score: p50 / p99 / cpu ms':44s}"
          + "".join(f"{v:>22s}" for v in ("all",) + ASPECTS))
    selective = {"year_min": 2015, "year_max": 2017, "venue": "COLT"}
    product = SearchConfig(score_fn=space_score)
    for name, cfg, filters in [("hierarchical (broad=1000)", product, {}),
                               ("direct (broad=1000)", SearchConfig(strategy="direct", score_fn=space_score), {}),
                               ("hierarchical, COLT 2015-17 only", product, selective)]:
        cells = []
        for view in ("all",) + ASPECTS:
            _, times, counts, cpu = run_service(s, view, qs, cfg, k=20, texts=titles, **filters)
            cells.append(f"{pct(times)[0]:.1f} / {pct(times)[1]:.1f} / {cpu:.1f}")
        print(f"  {name:44s}" + "".join(f"{c:>22s}" for c in cells))
    allowed = int(filter_count(s, selective))
    print(f"  (the filter allows {allowed} of {len(s)} papers; every query still got {min(counts)} of 20 hits)")


def filter_count(s: IndexSet, f: dict) -> int:
    from discovery.search import filter_mask

    return int(filter_mask(s, **f).sum())


def corpus_49k(papers: list[dict], real: dict[str, np.ndarray], root: Path, threads: int) -> tuple[IndexSet, dict]:
    vecs = synthesize(real, len(papers), SPACES, seed=1)
    for sp in SPACES:
        vecs[sp][real["rows"]] = real[sp]
    print(f"  median nearest-neighbour cosine, {len(real['rows'])} papers: real {nn_cosine(real['paper']):.3f}, "
          f"synthetic {nn_cosine(np.delete(vecs['paper'], real['rows'], 0)[:len(real['rows'])]):.3f}")
    ids = np.arange(1, len(papers) + 1)
    t = time.perf_counter()
    with build_threads(threads):
        s = IndexSet.build(root, ids, vecs, texts=[f"{p['title']} {p['abstract']}" for p in papers],
                           years=[p.get("year") or 0 for p in papers], venues=[p.get("venue") or "" for p in papers])
    print(f"  IndexSet.build over {len(ids)} papers x 4 spaces + BM25: {time.perf_counter() - t:.1f} s "
          f"(index type {s.kind('paper')})")
    return s, vecs


def real_index(root: Path, papers: list[dict]) -> tuple[IndexSet, dict]:
    """The real index (vectors of the product's own pipeline) and its vectors per space."""
    s = IndexSet.open(root)
    vecs = {sp: s.reconstruct(sp, s.ids) for sp in SPACES}
    print(f"  real index {root}: {len(s)} papers x 4 spaces, index type {s.kind('paper')}, "
          f"median nearest-neighbour cosine of 1,500 papers {nn_cosine(vecs['paper'][:1500]):.3f}")
    return s, vecs


def real_only(real: dict[str, np.ndarray], typed: list[dict], root: Path, n_queries: int) -> None:
    """The same comparison on real vectors only, candidate sets scaled to the same fraction of the
    corpus as at 49k: synthetic neighbours share their anchor's paper-aspect relation, which
    flatters hierarchical retrieval, so this is the check that matters."""
    n = len(real["rows"])
    ids = np.arange(1, n + 1)
    s = IndexSet.build(root, ids, {sp: real[sp] for sp in SPACES})
    broad = tuple(max(10, round(b * n / 49_084)) for b in (200, 1000, 3000))
    print(f"\n  real vectors only ({n} papers); broad sets scaled to the same fraction of the corpus as above:")
    rows = np.arange(min(n, n_queries))
    like = [{sp: real[sp][r] for sp in SPACES} for r in rows]
    for score_fn in (aspect_score, space_score):
        compare_strategies(s, real, ids, "typed queries", typed, broad_ks=broad, score_fn=score_fn)
        compare_strategies(s, real, ids, "more like this paper (its own vectors, itself left out)", like,
                           exclude_rows=rows, broad_ks=broad, score_fn=score_fn)


def large_scale(real: dict[str, np.ndarray], qvecs: np.ndarray, n: int, hnsw: bool, root: Path,
                threads: int) -> None:
    t = time.perf_counter()
    vecs = synthesize(real, n, ("paper", "method"), seed=2)
    ids = np.arange(1, n + 1)
    print(f"\n== {n:,} synthetic papers (generated in {time.perf_counter() - t:.0f} s) ==")
    print("  whole-paper space, typed title queries:")
    s = IndexSet(root)
    s.spaces["paper"] = compare_index_types(ids, vecs["paper"], qvecs, hnsw=hnsw, threads=threads)
    t = time.perf_counter()
    with build_threads(threads):
        s.spaces["method"] = build_space(ids, vecs["method"], s.cfg)
    # problem and findings alias the method index: the same cost per query at half the memory
    s.spaces["problem"] = s.spaces["findings"] = s.spaces["method"]
    s.meta = Meta(ids, np.zeros(n, np.int16), np.zeros(n, np.int32))
    print(f"  method space ({s.kind('method')}, nprobe {s.cfg.nprobe}) built in {time.perf_counter() - t:.0f} s")
    qs = [{sp: q for sp in SPACES} for q in qvecs]
    for score_fn in (aspect_score, space_score):
        compare_strategies(s, vecs, ids, f"{n:,} papers, typed queries", qs, aspects=("method",),
                           broad_ks=(1000,), score_fn=score_fn)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, default=None, help="a real 49k index folder (else a stand-in)")
    ap.add_argument("--real", type=int, default=1500, help="papers embedded with the real encoder")
    ap.add_argument("--queries", type=int, default=200, help="typed queries (real titles)")
    ap.add_argument("--large", type=int, default=1_000_000, help="synthetic corpus size; 0 skips it")
    ap.add_argument("--hnsw-large", action="store_true", help="also build HNSW at --large (minutes)")
    ap.add_argument("--threads", type=int, default=2, help="FAISS threads for index builds")
    args = ap.parse_args(argv)
    models_offline()
    import torch

    # One thread per query, as a web or worker process should run FAISS and torch: with OpenMP
    # on a busy machine a single flat query over 49k took 46 ms on 2 threads and 6 ms on 1.
    torch.set_num_threads(1)
    faiss.omp_set_num_threads(1)
    print(f"queries on 1 thread, builds on {args.threads}; faiss {faiss.__version__}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (timings on a shared machine are noisy)")
    papers = load_corpus()
    # the stand-in and the 1M synthetic corpus are built from a really embedded sample
    needs_sample = not args.index or args.large
    real = real_sample(papers, args.real) if needs_sample else {"rows": np.zeros(0, np.int64)}
    titles, qvecs = query_titles(papers, real["rows"], args.queries)
    typed = [{sp: q for sp in SPACES} for q in qvecs]
    source = f"real index {args.index}" if args.index else f"{len(real['rows'])} really embedded, the rest synthetic"
    print(f"\n== ml_papers: {len(papers)} papers, {source} ==")
    encoding_latency(titles)
    with tempfile.TemporaryDirectory(dir=PROJECT_ROOT / "var" / "cache") as tmp:
        if args.index:
            s, vecs = real_index(args.index, papers)
        else:
            s, vecs = corpus_49k(papers, real, Path(tmp) / "idx", args.threads)
        service_latency(s, titles, typed)
        ids = s.ids
        for score_fn in (aspect_score, space_score):
            compare_strategies(s, vecs, ids, "typed queries (titles)", typed, score_fn=score_fn)
        if not args.index:
            real_only(real, typed, Path(tmp) / "real", args.queries)
        print("\n  whole-paper space index types, typed queries:")
        compare_index_types(ids, vecs["paper"], qvecs, hnsw=True, threads=args.threads)
        del s, vecs
        if args.large:
            large_scale(real, qvecs, args.large, args.hnsw_large, Path(tmp) / "large", args.threads)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
