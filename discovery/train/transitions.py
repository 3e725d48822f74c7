"""Train and evaluate the ideation transition map (discovery.transitions) on the ML corpus.

    python -m discovery.train.transitions [--vectors var/cache/ml49k_vectors.npz] [--save]

Vectors: the npz the product's pipeline writes for ../shared/data/ml_papers.jsonl.gz (keys ids,
paper, problem, method, findings, year); when it is absent, a seeded subset of the corpus is
embedded here with discovery.aspects.embed_papers and cached under var/cache/.

Evaluation (the Ideation Space paper's Hit Rate@30): a fixed, seeded 10% of the papers is held out
of training; for each held-out paper its problem vector (mapped, or as is for the identity
baseline) ranks EVERY method vector of the file (held-out and training papers alike: 49,084 for
the full corpus), and a hit is the paper's own method within the top 30.
"""
from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

import numpy as np

from discovery import transitions
from discovery.settings import PROJECT_ROOT, shared_data_dir

DEFAULT_VECTORS = PROJECT_ROOT / "var" / "cache" / "ml49k_vectors.npz"


def read_corpus(path: Path) -> list[dict]:
    with gzip.open(path, "rt") as f:
        return [json.loads(line) for line in f if line.strip()]


def embed_subset(n: int, seed: int, cache: Path) -> dict[str, np.ndarray]:
    """Vectors of a seeded sample of n corpus papers, embedded once and cached."""
    if cache.exists():
        with np.load(cache) as z:
            return {k: z[k] for k in z.files}
    from discovery.aspects import embed_papers

    papers = read_corpus(shared_data_dir() / "ml_papers.jsonl.gz")
    rows = np.sort(np.random.default_rng(seed).choice(len(papers), min(n, len(papers)), replace=False))
    chosen = [papers[i] for i in rows]
    parts = []
    for lo in range(0, len(chosen), 250):
        batch = chosen[lo:lo + 250]
        parts.append(embed_papers([(p["title"], p["abstract"]) for p in batch]).vectors)
        print(f"embedded {lo + len(batch)}/{len(chosen)}", flush=True)
    out = {s: np.concatenate([v[s] for v in parts]).astype(np.float16) for s in parts[0]}
    out |= {"ids": np.asarray([p["id"] for p in chosen]), "year": np.asarray([p.get("year") or 0 for p in chosen])}
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(f".{cache.name}.tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **out)
    tmp.replace(cache)
    return out


def load_vectors(path: Path | None, subset: int, seed: int) -> tuple[dict[str, np.ndarray], str]:
    if path is not None and path.exists():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}, str(path)
    from discovery.segmenter import default_segmenter

    labeller = type(default_segmenter()).__name__.lower()  # trained segmenter or position labels
    cache = PROJECT_ROOT / "var" / "cache" / f"transitions_subset_{subset}_{seed}_{labeller}.npz"
    return embed_subset(subset, seed, cache), f"{cache} (seeded subset: {path} is absent)"


def held_out_split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    mask = np.zeros(n, bool)
    mask[np.random.default_rng(seed).choice(n, int(round(fraction * n)), replace=False)] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def evaluate(model: transitions.Transition, problems: np.ndarray, methods: np.ndarray, held: np.ndarray,
             k: int) -> tuple[float, float]:
    return transitions.hit_rate(model(problems[held]), held, methods, k=k)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vectors", type=Path, default=DEFAULT_VECTORS, help="corpus vectors npz")
    ap.add_argument("--subset", type=int, default=3000, help="papers to embed when --vectors is absent")
    ap.add_argument("--held-out", type=float, default=0.1, help="fraction held out of training")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--k", type=int, default=30, help="Hit Rate@k")
    ap.add_argument("--epochs", type=int, default=transitions.TransitionConfig.epochs)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--save", action="store_true", help="write discovery/weights/transitions.npz")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    data, source = load_vectors(args.vectors, args.subset, args.seed)
    problems = transitions.normalise(data["problem"])
    methods = transitions.normalise(data["method"])
    train_rows, held = held_out_split(len(problems), args.held_out, args.seed)
    print(f"vectors: {source}; {len(problems)} papers, {len(held)} held out (seed {args.seed}); "
          f"pool = all {len(methods)} method vectors")
    t0 = time.perf_counter()
    cfg = transitions.TransitionConfig(epochs=args.epochs, seed=args.seed)
    model = transitions.train(problems[train_rows], methods[train_rows], cfg, log=print)
    model.meta = {"trained_on": int(len(train_rows)), "source": Path(source.split()[0]).name,
                  "epochs": cfg.epochs, "seed": args.seed}
    print(f"trained in {time.perf_counter() - t0:.1f} s")
    hr0, mrr0 = evaluate(transitions.Transition(), problems, methods, held, args.k)
    hr1, mrr1 = evaluate(model, problems, methods, held, args.k)
    print(f"{'map':<28}{'HR@' + str(args.k):>8}{'MRR':>8}")
    print(f"{'identity (problem vector)':<28}{hr0:>8.3f}{mrr0:>8.3f}")
    print(f"{'learned transition':<28}{hr1:>8.3f}{mrr1:>8.3f}")
    print("(Navigating Ideation Space reports HR@30 = 0.643)")
    if args.save:
        model.meta |= {"hit_rate": round(hr1, 4), "identity_hit_rate": round(hr0, 4), "k": args.k}
        model.save()
        print(f"saved {transitions.WEIGHTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
