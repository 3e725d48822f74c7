"""Novelty detection on novelty_dev (the train split of Liu et al. 2025's ACL and marketing sets):
the product's scorer (discovery.novelty_scorer) beside the whole-idea MiniLM cosine baseline, in
the same run, on the same vectors.

    python -m discovery.bench.novelty_dev [--data DIR] [--weights FILE]

Each idea is judged against its own pool only. AUROC with novel = positive (score: the scorer's
overall = 1 - p(not novel); baseline: minus the cosine to the nearest pool item), per domain, on
the non-combination items (the headline: the README of novelty_dev explains why the combination
labels are unreliable), on novel vs subset only, on all items, and on two fixed halves of the set
(by a hash of the idea id): features and hyper-parameters were chosen on the dev half only, the
test half is reported as it fell. Then the reliability table of p(not novel) on the
non-combination items (10 bins: mean predicted, observed not-novel rate, count), and the scorer's
time per idea.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np

from discovery import novelty_scorer as ns
from discovery.settings import shared_data_dir

DOMAINS = ("acl", "marketing")


def load(data: Path) -> list[dict]:
    rows = []
    for domain in DOMAINS:
        with open(data / f"{domain}.jsonl") as f:
            for line in f:
                r = json.loads(line)
                r["domain"] = domain
                r["half"] = "dev" if int(hashlib.sha1(r["id"].encode()).hexdigest(), 16) % 2 == 0 else "test"
                rows.append(r)
    return rows


def auroc(rows: list[dict], scores: np.ndarray, keep) -> str:
    from sklearn.metrics import roc_auc_score

    idx = [i for i, r in enumerate(rows) if keep(r)]
    labels = [rows[i]["novel"] for i in idx]
    if len(set(labels)) < 2:
        return "  -  "
    return f"{100 * roc_auc_score(labels, scores[idx]):5.1f}"


SUBSETS = {
    "non-combination": lambda r: r["type"] != "combination",
    "novel vs paraphrase": lambda r: r["type"] in ("novel", "paraphrase"),
    "novel vs subset": lambda r: r["type"] in ("novel", "subset"),
    "novel vs combination": lambda r: r["type"] in ("novel", "combination"),
    "all": lambda r: True,
}


def auroc_table(rows: list[dict], systems: dict[str, np.ndarray]) -> None:
    halves = (("dev", "dev half"), ("test", "test half"), (None, "whole"))
    print(f"{'AUROC (novel = positive)':<24}{'system':<14}" + "".join(f"{d + ' ' + h:>17}" for d in DOMAINS for _, h in halves))
    for name, keep in SUBSETS.items():
        for system, scores in systems.items():
            cells = [auroc(rows, scores, lambda r, d=d, h=h: r["domain"] == d and keep(r) and (h is None or r["half"] == h))
                     for d in DOMAINS for h, _ in halves]
            print(f"{name:<24}{system:<14}" + "".join(f"{c:>17}" for c in cells))


def reliability(p_not_novel: np.ndarray, not_novel: np.ndarray, bins: int = 10) -> None:
    print(f"{'p(not novel) bin':<18}{'mean predicted':>15}{'observed':>10}{'count':>7}")
    which = np.minimum((p_not_novel * bins).astype(int), bins - 1)
    for b in range(bins):
        sel = which == b
        if sel.any():
            print(f"{b / bins:.1f}-{(b + 1) / bins:.1f}{'':<11}{p_not_novel[sel].mean():>15.3f}"
                  f"{not_novel[sel].mean():>10.3f}{int(sel.sum()):>7}")
    ece = sum(abs(p_not_novel[which == b].mean() - not_novel[which == b].mean()) * (which == b).mean()
              for b in range(bins) if (which == b).any())
    print(f"expected calibration error: {ece:.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=None, help="novelty_dev folder (default: shared data)")
    ap.add_argument("--weights", type=Path, default=ns.WEIGHTS)
    args = ap.parse_args(argv)
    from discovery import encoder

    data = args.data or shared_data_dir() / "novelty_dev"
    if not data.exists():
        print(f"{data} is absent: nothing to measure")
        return 1
    rows = load(data)
    model = ns.load(args.weights)
    texts = list(dict.fromkeys(p for r in rows for p in r["pool"]))
    t0 = time.perf_counter()
    vectors = dict(zip(texts, encoder.encode(texts)))
    print(f"{len(rows)} ideas, {len(texts)} distinct pool items encoded in {time.perf_counter() - t0:.0f} s")
    product, baseline, p, ms = [], [], [], []
    for r in rows:
        pool_vecs = np.stack([vectors[t] for t in r["pool"]])
        t1 = time.perf_counter()
        judged = ns.judge(r["idea"], r["pool"], pool_vecs, model)
        ms.append(1000 * (time.perf_counter() - t1))
        product.append(judged.overall)
        baseline.append(-judged.features["cos_max"])
        p.append(judged.p_not_novel)
    auroc_table(rows, {"product": np.array(product), "cosine": np.array(baseline)})
    keep = np.array([r["type"] != "combination" for r in rows])
    print("\nreliability of p(not novel), non-combination items, both domains:")
    reliability(np.array(p)[keep], np.array([1 - r["novel"] for r in rows])[keep])
    print(f"\nscorer time per idea (idea + its {ns.CONFIG.top_k} nearest items encoded with their tokens, "
          f"pool vectors given): p50 {np.median(ms):.0f} ms, p90 {np.percentile(ms, 90):.0f} ms; "
          f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
