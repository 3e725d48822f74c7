"""Search benchmark: python -m discovery.bench_search [--large 1000000] [--threads 2]

Prints, side by side in one run: query-encoding latency; search-service latency p50/p99 over the
49k-paper corpus (ml_papers) per aspect, hierarchical vs direct, with and without filters;
recall@10 of hierarchical and direct aspect search against exhaustive aspect scoring; exact (flat)
vs IVF vs HNSW (build time, memory, p50/p99, recall@10) at 49k and at 1M synthetic vectors.

Vectors: embedding 49k papers takes ~40 min on two CPU cores, so `--real` papers (default 1500)
are embedded with the real encoder (whole paper = title + abstract; aspects = the segmenter's
stand-in: first / middle / last third of the abstract) and cached in var/cache/; the rest are
synthetic mixtures of those (see `synthesize`). Queries are real paper titles, really encoded.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from discovery import ASPECTS
from discovery.index import SPACES, IndexConfig, IndexSet, Meta, build_space
from discovery.search import SearchConfig, search

ROOT = Path(__file__).resolve().parent.parent
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(])")


def data_dir() -> Path:
    return Path(os.environ.get("SHARED_DATA_DIR", ROOT.parent / "shared" / "data"))


def load_corpus() -> list[dict]:
    with gzip.open(data_dir() / "ml_papers.jsonl.gz", "rt") as f:
        return [json.loads(line) for line in f]


def thirds(abstract: str) -> dict[str, str]:
    """Stand-in aspect texts when discovery.aspects is absent: abstracts run background ->
    method -> results (CSAbstruct's label order), so the first, middle and last third."""
    sents = SENTENCE.split(abstract.strip()) or [abstract]
    n = len(sents)
    cut1, cut2 = max(1, round(n / 3)), max(1, round(2 * n / 3))
    parts = [sents[:cut1], sents[cut1:cut2] or sents[:cut1], sents[cut2:] or sents[-1:]]
    return {a: " ".join(p) for a, p in zip(ASPECTS, parts)}


def real_sample(papers: list[dict], n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Whole-paper and aspect vectors of n random papers from the real encoder, cached."""
    cache = ROOT / "var" / "cache" / f"bench_search_real_{n}_{seed}.npz"
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
    cache = ROOT / "var" / "cache" / f"bench_search_queries_{n}_{seed}.npz"
    rng = np.random.default_rng(seed)
    pool = np.setdiff1d(np.arange(len(papers)), exclude_rows)
    rows = np.sort(rng.choice(pool, n, replace=False))
    titles = [papers[i]["title"] for i in rows]
    if cache.exists():
        with np.load(cache) as z:
            return titles, z["vectors"]
    from discovery import encoder

    vectors = encoder.encode(titles)
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
    with tempfile.TemporaryDirectory(dir=ROOT / "var" / "cache") as tmp:
        faiss.write_index(index, f"{tmp}/i")
        return os.path.getsize(f"{tmp}/i")


def compare_index_types(ids: np.ndarray, x: np.ndarray, queries: np.ndarray, *, hnsw: bool, k: int = 10,
                        nprobes=(8, 16, 32)) -> None:
    """Exact (flat) vs IVF (vs HNSW) on one space: build time, memory, p50/p99, recall@k."""
    print(f"\n  {'index':28s} {'build s':>8s} {'MB':>7s} {'p50 ms':>7s} {'p99 ms':>7s} {'recall@10':>9s}")
    t = time.perf_counter()
    flat = build_space(ids, x, IndexConfig(exact_below=len(ids) + 1))
    build_flat = time.perf_counter() - t
    want, times = timed_search(flat, queries, k)
    row = lambda name, b, idx, tm, r: print(  # noqa: E731
        f"  {name:28s} {b:8.1f} {index_bytes(idx) / 2**20:7.0f} {pct(tm)[0]:7.2f} {pct(tm)[1]:7.2f} {r:9.3f}")
    row("flat (exact)", build_flat, flat, times, 1.0)
    del flat
    t = time.perf_counter()
    ivf = build_space(ids, x, IndexConfig(exact_below=0))
    build_ivf = time.perf_counter() - t
    for nprobe in nprobes:
        got, times = timed_search(ivf, queries, k, params=faiss.SearchParametersIVF(nprobe=nprobe))
        row(f"IVF{ivf.nlist},Flat nprobe={nprobe}", build_ivf, ivf, times, recall(got, want))
    del ivf
    if hnsw:
        t = time.perf_counter()
        h = faiss.IndexHNSWFlat(x.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        h.hnsw.efConstruction = 40
        h.add(x)
        build_h = time.perf_counter() - t
        for ef in (32, 64):
            got, times = timed_search(h, queries, k, params=faiss.SearchParametersHNSW(efSearch=ef))
            row(f"HNSW32 efSearch={ef}", build_h, h, times, recall(ids[got], want))


def exact_top(x: np.ndarray, queries: np.ndarray, k: int, exclude=None, chunk: int = 16) -> np.ndarray:
    """Exhaustive top-k rows by inner product (the ground truth), optionally leaving one row out
    per query."""
    out = []
    for lo in range(0, len(queries), chunk):
        sims = queries[lo:lo + chunk] @ x.T
        if exclude is not None:
            sims[np.arange(len(sims)), exclude[lo:lo + chunk]] = -np.inf
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, top, 1), axis=1)
        out.append(np.take_along_axis(top, order, 1))
    return np.concatenate(out)


def run_service(s: IndexSet, aspect: str, queries: list[dict], cfg: SearchConfig, k: int = 10,
                texts=None, exclude=None, **filters) -> tuple[np.ndarray, list[float], list[int]]:
    found, times, counts = [], [], []
    for i, q in enumerate(queries):
        ex = () if exclude is None else (int(exclude[i]),)
        t = time.perf_counter()
        res = search(s, query_text=texts[i] if texts else None, query_vectors=q, aspect=aspect, k=k,
                     exclude_ids=ex, cfg=cfg, **filters)
        times.append(time.perf_counter() - t)
        found.append([h.id for h in res.hits] + [-1] * (k - len(res.hits)))
        counts.append(len(res.hits))
    return np.asarray(found), times, counts


def compare_strategies(s: IndexSet, vecs: dict[str, np.ndarray], ids: np.ndarray, label: str,
                       queries: list[dict], exclude_rows=None, broad_ks=(200, 1000, 3000),
                       aspects=ASPECTS) -> None:
    """Hierarchical (broad whole-paper candidates re-ranked in the aspect) vs direct aspect search,
    dense only: recall@10 against exhaustive aspect scoring, and latency."""
    print(f"\n  {label}: recall@10 vs exhaustive aspect scoring / p50 / p99 ms (dense only)")
    print(f"  {'strategy':24s}" + "".join(f"{a:>26s}" for a in aspects))
    truth = {a: ids[exact_top(vecs[a], np.stack([q[a] for q in queries]), 10, exclude_rows)] for a in aspects}
    exclude = None if exclude_rows is None else ids[exclude_rows]
    plans = [("direct", SearchConfig(strategy="direct"))] + [
        (f"hierarchical broad={b}", SearchConfig(strategy="hierarchical", broad_k=b)) for b in broad_ks]
    for name, cfg in plans:
        cells = []
        for a in aspects:
            got, times, _ = run_service(s, a, queries, cfg, exclude=exclude)
            p50, p99 = pct(times)
            cells.append(f"{recall(got, truth[a]):.3f} / {p50:5.1f} / {p99:5.1f}")
        print(f"  {name:24s}" + "".join(f"{c:>26s}" for c in cells))
