"""Ingestion throughput: papers per second from (title, abstract) to searchable FAISS vectors.

    python -m discovery.bench.ingest [--papers 2000] [--threads 2] [--product-fp32]

Both rows run in the same process on the same papers (the first N of ml_papers.jsonl.gz):
- baseline: sentence-transformers fp32 all-MiniLM-L6-v2 on whole "title abstract" texts, one
  vector per paper, into one faiss.IndexFlatIP;
- product: aspects.embed_papers (sentence split, every sentence encoded once with the encoder's
  `fast` path: Int8 on VNNI CPUs, fp32 elsewhere, length-sorted; segmenter on those vectors, pooled aspect vectors) into four
  IndexFlatIP (paper, problem, method, findings). `--product-fp32` adds the same pipeline with
  the fp32 encoder, to separate the encoder's gain from the pipeline's.
Timings on a shared machine are noisy: rerun on a quiet one before quoting them.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import time
from itertools import islice
from pathlib import Path

from discovery import SPACES
from discovery.settings import models_offline, shared_data_dir


def corpus_path() -> Path:
    return shared_data_dir() / "ml_papers.jsonl.gz"


def load_papers(n: int) -> list[tuple[str, str]]:
    with gzip.open(corpus_path(), "rt") as f:
        return [(r["title"], r["abstract"]) for r in map(json.loads, islice(f, n))]


def run_baseline(items: list[tuple[str, str]], batch: int) -> float:
    import faiss

    from discovery import encoder

    index = faiss.IndexFlatIP(encoder.DIM)
    t = time.perf_counter()
    for i in range(0, len(items), batch):
        index.add(encoder.encode([f"{ti} {ab}" for ti, ab in items[i:i + batch]], mode="fp32"))
    return time.perf_counter() - t


def run_product(items: list[tuple[str, str]], batch: int, mode: str) -> float:
    import faiss

    from discovery import aspects, encoder

    encoder.CONFIG.mode = mode
    indexes = {s: faiss.IndexFlatIP(encoder.DIM) for s in SPACES}
    t = time.perf_counter()
    for i in range(0, len(items), batch):
        embedded = aspects.embed_papers(items[i:i + batch])
        for space, index in indexes.items():
            index.add(embedded.vectors[space])
    return time.perf_counter() - t


def warm_up(items: list[tuple[str, str]]) -> None:
    """Load both models and the segmenter outside the timed region (a worker keeps them)."""
    from discovery import aspects, encoder

    for mode in encoder.MODES:
        encoder.encode([items[0][1]], mode=mode)
    aspects.embed_papers(items[:2])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--papers", type=int, default=2000, help="first N papers of the corpus")
    ap.add_argument("--batch", type=int, default=256, help="papers per pipeline call")
    ap.add_argument("--threads", type=int, default=2, help="torch and faiss threads")
    ap.add_argument("--product-fp32", action="store_true", help="also time the product with fp32")
    args = ap.parse_args(argv)
    models_offline()
    import faiss
    import torch

    torch.set_num_threads(args.threads)
    faiss.omp_set_num_threads(args.threads)
    items = load_papers(args.papers)
    warm_up(items)
    rows = [("baseline: sentence-transformers fp32, whole abstracts, 1 index", run_baseline(items, args.batch)),
            ("product: split + sentences (fast path) + segment + 4 indexes", run_product(items, args.batch, "fast"))]
    if args.product_fp32:
        rows.append(("product pipeline with the fp32 encoder", run_product(items, args.batch, "fp32")))
    load = os.getloadavg()[0]
    print(f"{len(items)} papers, {args.threads} threads, load average at the end {load:.1f}")
    for name, seconds in rows:
        print(f"  {name:62s} {len(items) / seconds:7.1f} papers/s  ({seconds:.1f} s)")
    print(f"  speed-up of the product over the baseline: {rows[0][1] / rows[1][1]:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
