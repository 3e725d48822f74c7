"""Fit and measure the LLM cross-check (discovery.crosscheck) of one LLM on novelty_dev.

    python -m discovery.train.crosscheck --model qwen2.5-coder-1.5b [--save]

Every idea of novelty_dev is judged by the shipped scorer against its own pool (as
discovery.bench.novelty_dev does); the LLM gives its margin on the idea and the scorer's three
best-covering items (cached per model and idea in $DISCOVERY_CACHE_DIR/crosscheck, so a rerun
costs nothing). A logistic model on [logit(p scorer), margin] is fitted on the non-combination
items of the dev half only; the AUROC table then shows the scorer, the scorer with the
cross-check, the LLM's margin alone and the whole-idea cosine, per domain and half. --save writes
the weights only when the cross-check raises the dev half's AUROC (mean of the two domains): the
test half never chooses.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import time

import numpy as np

from discovery import crosscheck, settings
from discovery import novelty_scorer as ns
from discovery.bench import novelty_dev as bench


def _cache_path(model: str):
    # the prompt is part of the key: a changed prompt must not reuse old margins
    key = hashlib.sha1(json.dumps(crosscheck.messages("{idea}", "{item}")).encode()).hexdigest()[:10]
    return settings.cache_dir() / "crosscheck" / f"{model}-{key}.json"


def margins(rows: list[dict], judged: list[ns.Judgement], model: str) -> tuple[np.ndarray, list[float]]:
    """The LLM's margin per row, and the seconds each new one took."""
    from inference import load_engine

    path = _cache_path(model)
    cache = json.loads(path.read_text()) if path.exists() else {}
    os.environ["LLM_MODEL"] = model
    engine, seconds = None, []
    for i, (r, j) in enumerate(zip(rows, judged)):
        if r["id"] not in cache:
            engine = engine or load_engine("int8")
            items = [r["pool"][k] for k in list(j.coverage)[:crosscheck.ITEMS]]
            t = time.perf_counter()
            cache[r["id"]] = crosscheck.margin(engine, r["idea"], items)
            seconds.append(time.perf_counter() - t)
            if len(seconds) % 20 == 0:
                print(f"  {i + 1}/{len(rows)} ideas; {np.median(seconds):.2f} s per check", flush=True)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(cache))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(cache))
    return np.array([cache[r["id"]] for r in rows]), seconds


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def fit(p: np.ndarray, m: np.ndarray, not_novel: np.ndarray) -> crosscheck.Weights:
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1.0).fit(np.column_stack([_logit(p), m]), not_novel)
    return crosscheck.Weights(float(lr.intercept_[0]), float(lr.coef_[0, 0]), float(lr.coef_[0, 1]), {})


def dev_auroc(rows: list[dict], scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    out = []
    for d in bench.DOMAINS:
        idx = [i for i, r in enumerate(rows) if r["domain"] == d and r["half"] == "dev" and r["type"] != "combination"]
        out.append(roc_auc_score([rows[i]["novel"] for i in idx], scores[idx]))
    return 100 * float(np.mean(out))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="an LLM_MODEL name (python -m inference models list)")
    ap.add_argument("--save", action="store_true", help=f"write the weights to {crosscheck.WEIGHTS} if dev improves")
    args = ap.parse_args(argv)
    settings.models_offline()
    rows = bench.load(settings.shared_data_dir() / "novelty_dev")
    judged, _ = bench.judge_rows(rows, ns.load())
    p = np.array([j.p_not_novel for j in judged])
    t = time.perf_counter()
    m, seconds = margins(rows, judged, args.model)
    if seconds:
        print(f"{len(seconds)} cross-checks in {time.perf_counter() - t:.0f} s: p50 {np.median(seconds):.2f} s, "
              f"p90 {np.percentile(seconds, 90):.2f} s; load {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    not_novel = np.array([1 - r["novel"] for r in rows])
    train = np.array([r["half"] == "dev" and r["type"] != "combination" for r in rows])
    w = fit(p[train], m[train], not_novel[train])
    joined = np.array([w.p_not_novel(pi, mi) for pi, mi in zip(p, m)])
    print(f"\nweights fitted on the dev half's {int(train.sum())} non-combination ideas: bias {w.bias:.3f}, "
          f"scorer logit {w.scorer:.3f}, LLM margin {w.llm:.3f}\n")
    bench.auroc_table(rows, {"scorer": 1 - p, "scorer+llm": 1 - joined, "llm alone": -m,
                             "cosine": np.array([-j.features["cos_max"] for j in judged])})
    for half in ("dev", "test"):
        keep = np.array([r["type"] != "combination" and r["half"] == half for r in rows])
        print(f"\nreliability of the joined p(not novel), non-combination items of the {half} half:")
        bench.reliability(joined[keep], not_novel[keep])
    before, after = dev_auroc(rows, 1 - p), dev_auroc(rows, 1 - joined)
    print(f"\ndev half, non-combination, mean of the two domains: scorer {before:.1f}, with the cross-check {after:.1f}")
    if args.save:
        if after <= before or not math.isfinite(after):
            print(f"not saved: the cross-check of {args.model} does not raise the dev half's AUROC")
            return 0
        saved = json.loads(crosscheck.WEIGHTS.read_text()) if crosscheck.WEIGHTS.exists() else {}
        saved[args.model] = {"bias": w.bias, "scorer": w.scorer, "llm": w.llm,
                             "meta": {"command": f"python -m discovery.train.crosscheck --model {args.model} --save",
                                      "dev_auroc": [round(before, 1), round(after, 1)]}}
        crosscheck.WEIGHTS.write_text(json.dumps(saved, indent=1) + "\n")
        print(f"saved to {crosscheck.WEIGHTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
