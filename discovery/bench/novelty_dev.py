"""Novelty detection on novelty_dev (the train split of Liu et al. 2025's ACL and marketing sets):
the product's scorer (discovery.novelty_scorer) beside the whole-idea MiniLM cosine baseline, in
the same run, on the same vectors.

    python -m discovery.bench.novelty_dev [--data DIR] [--weights FILE]

Each idea is judged against its own pool only. AUROC with novel = positive (score: the scorer's
overall = 1 - p(not novel); baseline: minus the cosine to the nearest pool item), per domain, on
the non-combination items (the headline: the README of novelty_dev explains why the combination
labels are unreliable), on novel vs subset only, on all items, and on two fixed halves of the set
(by a hash of the idea id): features and hyper-parameters were chosen on the dev half only, the
test half is reported as it fell. Then the reliability tables of p(not novel) on the
non-combination items (10 bins: mean predicted, observed not-novel rate, count), and the scorer's
time per idea.

Designs tried (session 4; AUROC on the non-combination items, dev half / test half / whole, and
novel vs subset on the whole; models trained on the synthetic set of discovery.train.novelty,
whose own dev AUROC is the last figure):

| design                                           | ACL              | subset | marketing        | subset | synth |
|--------------------------------------------------|------------------|--------|------------------|--------|-------|
| cosine to the nearest item (baseline)            | 77.3 / 56.5 / 69.0 | 64.3 | 83.2 / 61.4 / 70.7 | 54.9 |       |
| cosine margin over the second nearest            | 82.7 / 72.5 / 78.1 | 73.2 | 77.9 / 72.7 / 74.3 | 62.4 |       |
| cosine excess over the pool's density            | 83.7 / 72.8 / 78.7 | 76.8 | 88.9 / 70.1 / 78.4 | 66.2 |       |
| clause coverage (clauses matched to top-10's)    | 76.8 / 52.8 / 65.8 | 68.6 | 79.6 / 70.1 / 75.6 | 72.0 |       |
| rare-term margin, IDF of the 49k corpus          | 75.8 / 79.3 / 77.3 | 75.0 | 91.1 / 65.6 / 75.1 | 55.5 |       |
| rare-term margin, IDF of the pool (kept)         | 75.8 / 55.2 / 65.2 | 62.0 | 95.4 / 64.0 / 76.0 | 62.2 |       |
| token coverage of the best item                  | 74.5 / 64.8 / 71.0 | 65.0 | 96.1 / 58.4 / 74.1 | 65.3 |       |
| token coverage margin                            | 82.9 / 76.9 / 80.5 | 77.8 | 98.2 / 89.0 / 90.2 | 86.2 |       |
| token coverage excess over the top-10 median     | 81.4 / 86.7 / 83.7 | 79.9 | 97.9 / 74.7 / 82.2 | 74.7 |       |
| LR: cosine only                                  | 77.3 / 56.5 / 69.0 | 64.3 | 83.2 / 61.4 / 70.7 | 54.9 | 91.7 |
| LR: cosine, margin, density                      | 82.7 / 71.9 / 77.7 | 75.1 | 87.9 / 70.5 / 78.8 | 66.4 | 94.2 |
| LR: token coverage, its margin and excess        | 80.6 / 74.7 / 78.5 | 73.3 | 97.9 / 68.5 / 79.9 | 72.7 | 98.2 |
| LR: all seven (levels, margins, rare terms)      | 85.2 / 74.1 / 79.6 | 76.4 | 98.6 / 67.2 / 80.0 | 71.8 | 98.5 |
| gradient boosting: all seven                     | 79.8 / 78.4 / 79.2 | 76.1 | 98.6 / 58.4 / 77.4 | 68.2 | 98.8 |
| LR: margins and excesses only (shipped, C=1)     | 87.0 / 77.5 / 82.1 | 80.1 | 98.6 / 70.8 / 81.2 | 72.2 | 98.4 |
| the same, C=0.01                                 | 86.5 / 77.2 / 82.3 | 80.9 | 98.6 / 75.3 / 83.6 | 75.1 | 98.3 |
| the same without the rare-term margin            | 86.0 / 82.1 / 83.6 | 81.8 | 98.2 / 75.3 / 83.7 | 76.2 | 98.1 |

The LLM cross-check (discovery.crosscheck) is measured beside the scorer, with and without it, by
`python -m discovery.train.crosscheck --model NAME` (session 9, Qwen2.5-Coder-1.5B: 86.5 / 80.6 /
83.8 and 98.6 / 66.9 / 80.1 joined, against the scorer's dev 87.0 and 98.6: not kept).

The shipped design won on the dev halves (the selection rule), not on the whole set. Absolute
levels (cosine, coverage) separate the synthetic copies best and transfer worst; IDF weights on
the token alignment did not help (token margin 76.6 / 88.6 with pool IDF).
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
    eps = 1e-6
    nll = -np.mean(not_novel * np.log(p_not_novel + eps) + (1 - not_novel) * np.log(1 - p_not_novel + eps))
    brier = np.mean((p_not_novel - not_novel) ** 2)
    # ECE over 10 bins is noisy on ~80 ideas; the log loss and the Brier score are not binned
    print(f"expected calibration error: {ece:.3f}; log loss {nll:.3f}; Brier score {brier:.3f} "
          f"(a constant at the base rate: {np.mean(not_novel) * (1 - np.mean(not_novel)):.3f})")


def judge_rows(rows: list[dict], model: ns.Model) -> tuple[list[ns.Judgement], list[float]]:
    """Every idea judged against its own pool; with the scorer's time per idea in ms."""
    from discovery import encoder

    texts = list(dict.fromkeys(p for r in rows for p in r["pool"]))
    t0 = time.perf_counter()
    vectors = dict(zip(texts, encoder.encode(texts)))
    print(f"{len(rows)} ideas, {len(texts)} distinct pool items encoded in {time.perf_counter() - t0:.0f} s")
    judged, ms = [], []
    for r in rows:
        pool_vecs = np.stack([vectors[t] for t in r["pool"]])
        t1 = time.perf_counter()
        judged.append(ns.judge(r["idea"], r["pool"], pool_vecs, model))
        ms.append(1000 * (time.perf_counter() - t1))
    return judged, ms


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=None, help="novelty_dev folder (default: shared data)")
    ap.add_argument("--weights", type=Path, default=ns.WEIGHTS)
    args = ap.parse_args(argv)
    data = args.data or shared_data_dir() / "novelty_dev"
    if not data.exists():
        print(f"{data} is absent: nothing to measure")
        return 1
    rows = load(data)
    judged, ms = judge_rows(rows, ns.load(args.weights))
    product = np.array([j.overall for j in judged])
    auroc_table(rows, {"product": product, "cosine": np.array([-j.features["cos_max"] for j in judged])})
    p = np.array([j.p_not_novel for j in judged])
    not_novel = np.array([1 - r["novel"] for r in rows])
    for half in ("dev", "test"):
        keep = np.array([r["type"] != "combination" and r["half"] == half for r in rows])
        print(f"\nreliability of p(not novel), non-combination items of the {half} half, both domains:")
        reliability(p[keep], not_novel[keep])
    print(f"\nscorer time per idea (idea + its {ns.CONFIG.top_k} nearest items encoded with their tokens, "
          f"pool vectors given): p50 {np.median(ms):.0f} ms, p90 {np.percentile(ms, 90):.0f} ms; "
          f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
